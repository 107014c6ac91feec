// Boost.JSON's compiled part, once for the whole tool (Debian ships Boost.JSON without a library for 1.81's
// headers package): no other file of the tool may include <boost/json/src.hpp>.
#include <boost/json/src.hpp>
