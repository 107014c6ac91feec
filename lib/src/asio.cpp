// Boost.Asio's compiled part (its scheduler, reactor, sockets' and pipes' non-template code), built once into
// the kit's library in Debug builds: every target that links clusterkit::kit is then compiled with
// BOOST_ASIO_SEPARATE_COMPILATION (lib/CMakeLists.txt), so those functions are declared, not defined, in the
// headers it includes. That takes them and the templates they use out of every lesson file's compile
// (bench/edit-to-verdict/README.md). No other file (lesson, tool or bench) may include it.
#include <boost/asio/impl/src.hpp>
