// The kit tool's tests: Catch2's own session, nothing more.
#define CATCH_CONFIG_RUNNER  // Catch2 2 compiles its implementation here; Catch2 3 ships it as a library
#include "catch.hpp"

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
