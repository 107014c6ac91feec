// clusterkit-test-child's `channel05 SPEC` step: a lesson 05 worker that misbehaves on purpose (see
// child_channel.cpp for SPEC and the lines it prints).
#pragma once

#include <string>

namespace clusterkit::testing {

// Runs the worker until it exits; returns its exit status.
int serve_channel05(const std::string& spec);

}  // namespace clusterkit::testing
