// Catch2, whichever major version the distribution ships: 2.13 (Debian 12, Ubuntu 22.04: one header) or 3.x
// (Debian 13, Ubuntu 24.04: a compiled library with one header per part). Every test file includes this,
// never Catch2's own headers, so that the same tests build on both.
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)  // Catch2 3
#include <catch2/catch_approx.hpp>
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
using Catch::Approx;
#define CLUSTERKIT_CATCH_MAJOR 3
#else  // Catch2 2: the single header (a CATCH_CONFIG_RUNNER defined before it makes this file hold Catch2)
#include <catch2/catch.hpp>
#define CLUSTERKIT_CATCH_MAJOR 2
#endif
