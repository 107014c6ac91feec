// Catch2, whichever major version the distribution ships: 2.13 (Debian 12, Ubuntu 22.04: one header) or 3.x
// (Debian 13, Ubuntu 24.04: a compiled library with one header per part). Every test file includes this,
// never Catch2's own headers, so that the same tests build on both.
//
// A file that defines CLUSTERKIT_CATCH_LISTENER before including this also gets the event listener's base
// class, as clusterkit::testing::ListenerBase (listener.cpp).
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)  // Catch2 3
#include <catch2/catch_approx.hpp>
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#ifdef CLUSTERKIT_CATCH_LISTENER
#include <catch2/catch_test_case_info.hpp>
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>
namespace clusterkit::testing {
using ListenerBase = Catch::EventListenerBase;
}
#endif
using Catch::Approx;
#define CLUSTERKIT_CATCH_MAJOR 3
#else  // Catch2 2: the single header (a CATCH_CONFIG_RUNNER defined before it makes this file hold Catch2)
#ifdef CLUSTERKIT_CATCH_LISTENER
#define CATCH_CONFIG_EXTERNAL_INTERFACES  // the reporter and listener base classes
#endif
#include <catch2/catch.hpp>
#ifdef CLUSTERKIT_CATCH_LISTENER
namespace clusterkit::testing {
using ListenerBase = Catch::TestEventListenerBase;
}
#endif
#define CLUSTERKIT_CATCH_MAJOR 2
#endif
