// Boost.JSON's compiled part, built once into the kit's library. Debian's 1.81 headers package ships
// Boost.JSON without a library, and a program must compile <boost/json/src.hpp> in exactly one file: here,
// rather than in a lesson's own file, so that a student's edit does not recompile all of Boost.JSON.
// No other file (lesson, tool or bench) may include it.
#include <boost/json/src.hpp>
