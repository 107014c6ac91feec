// The kit's Catch2 event listener (listener.cpp) registers itself with Catch2 when it is linked. It sits in
// a static library, where the linker keeps only what is referenced: main() calls this, so it is kept.
#pragma once

namespace clusterkit::testing {

bool result_listener_linked();

}  // namespace clusterkit::testing
