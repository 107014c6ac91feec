# clusterkit_add_lesson(NN-name): everything CMake knows about a lesson comes from its folder name.
#
# Programs, from <tree>/NN-name/ where <tree> is CLUSTERKIT_TREE (solutions, starter or a student's copy):
#   lessonNN         from every .cpp file except worker*.cpp
#   lessonNN-worker  from worker*.cpp, when the lesson has a separate worker program
#   lessonNN-common  from common_*.cpp: code both programs use, compiled once and linked into both
# Tests, from tests/NN-name/*.cpp: the executable testNN, each Catch2 test case a CTest test named
# "NN/<test case>", labelled NN. Building the target lessonNN also builds testNN, so
#   cmake --build --preset starter --target lesson01 && ctest --preset starter -L 01
# checks one lesson alone.

# The distribution's Boost, 1.81 or newer (Debian 12 ships 1.81, Debian 13 and Ubuntu 24.04 1.83). From 1.86
# Boost.Process is a compiled library, Boost::process; before, it is header-only (see lib/CMakeLists.txt).
macro(clusterkit_find_boost)
  find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS program_options)  # Boost's config accepts any newer one
  if(Boost_VERSION VERSION_GREATER_EQUAL 1.86)
    find_package(Boost ${Boost_VERSION} EXACT REQUIRED CONFIG COMPONENTS process program_options)
  endif()
endmacro()

# With CLUSTERKIT_FAST_LINK (the starter preset), link with gold when the system has it: 0.23 s instead of
# ld.bfd's 0.48 s for lesson05 on Debian 12. Debian 13's binutils 2.44 no longer ships it: ld.bfd then.
macro(clusterkit_fast_link)
  if(CLUSTERKIT_FAST_LINK)
    include(CheckLinkerFlag)
    check_linker_flag(CXX "-fuse-ld=gold" CLUSTERKIT_HAVE_GOLD)
    if(CLUSTERKIT_HAVE_GOLD)
      add_link_options(-fuse-ld=gold)
    endif()
  endif()
endmacro()

# Catch2 2.13 (Debian 12) or 3.x (Debian 13, Ubuntu 24.04): clusterkit::catch2 is Catch2 without its main();
# tests include tests/support/catch.hpp, which picks the headers of the version found.
macro(clusterkit_find_catch2)
  find_package(Catch2 3 QUIET CONFIG)
  if(NOT Catch2_FOUND)
    find_package(Catch2 2.13 REQUIRED CONFIG)
  endif()
  message(STATUS "ClusterKit: Catch2 ${Catch2_VERSION}")
  include(Catch)
  add_library(clusterkit_catch2 INTERFACE)
  add_library(clusterkit::catch2 ALIAS clusterkit_catch2)
  target_link_libraries(clusterkit_catch2 INTERFACE Catch2::Catch2)
  target_include_directories(clusterkit_catch2 INTERFACE "${PROJECT_SOURCE_DIR}/tests/support")
endmacro()

# Turns CLUSTERKIT_TREE into CLUSTERKIT_TREE_DIR (an absolute path) and decides the warning flags.
function(clusterkit_resolve_tree)
  if(CLUSTERKIT_TREE STREQUAL "solutions" OR CLUSTERKIT_TREE STREQUAL "starter")
    set(dir "${PROJECT_SOURCE_DIR}/${CLUSTERKIT_TREE}")
  else()
    get_filename_component(dir "${CLUSTERKIT_TREE}" ABSOLUTE BASE_DIR "${PROJECT_SOURCE_DIR}")
  endif()
  if(NOT IS_DIRECTORY "${dir}")
    message(FATAL_ERROR "CLUSTERKIT_TREE: ${CLUSTERKIT_TREE} is not a folder (looked for ${dir})")
  endif()
  set(CLUSTERKIT_TREE_DIR "${dir}" PARENT_SCOPE)
  message(STATUS "ClusterKit: lesson programs from ${dir}")
endfunction()

# Warnings: errors in the kit's own code (reference solutions, library, tests); only warnings in a
# student's tree, so that an unused variable never hides the autograder's verdict.
function(clusterkit_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CLUSTERKIT_TREE STREQUAL "solutions" OR ARGV1 STREQUAL "KIT")
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Precompiled headers for the lesson programs, built once per build and reused by every lesson: the kit's
# headers and the heavy Boost ones. A student's one-file edit then recompiles in about a second instead of
# three or more. Three of them, because a big one costs time to load: clusterkit_pch (Program_options and
# the kit) for every program, clusterkit_pch_asio (plus Asio and Boost.Process) for programs that include
# those, clusterkit_pch_interprocess (plus Boost.Interprocess) for programs that include that. They only
# speed the build up: each source still includes what it uses. Each is built only when a program uses it
# (EXCLUDE_FROM_ALL; REUSE_FROM adds the dependency), so a build of lesson 01 alone makes one.
function(clusterkit_add_pch)
  set(light <algorithm> <span> <string> <string_view> <vector>
    <boost/program_options.hpp>
    <clusterkit/cli.hpp> <clusterkit/cpus.hpp> <clusterkit/errors.hpp> <clusterkit/events.hpp>
    <clusterkit/fd.hpp> <clusterkit/wait_status.hpp>)
  set(heavy <boost/asio/io_context.hpp> <boost/asio/signal_set.hpp> <boost/asio/steady_timer.hpp>
    <boost/asio/readable_pipe.hpp> <boost/asio/writable_pipe.hpp> <boost/asio/read_until.hpp>
    <boost/asio/write.hpp> <clusterkit/process.hpp>)
  set(interprocess <filesystem> <boost/interprocess/managed_shared_memory.hpp>
    <boost/interprocess/sync/interprocess_mutex.hpp> <boost/interprocess/sync/scoped_lock.hpp>)
  foreach(name IN ITEMS clusterkit_pch clusterkit_pch_asio clusterkit_pch_interprocess)
    add_library(${name} STATIC EXCLUDE_FROM_ALL "${PROJECT_SOURCE_DIR}/cmake/pch.cpp")
    target_link_libraries(${name} PRIVATE clusterkit::kit)
    clusterkit_warnings(${name})
  endforeach()
  target_precompile_headers(clusterkit_pch PRIVATE ${light})
  target_precompile_headers(clusterkit_pch_asio PRIVATE ${light} ${heavy})
  target_precompile_headers(clusterkit_pch_interprocess PRIVATE ${light} ${interprocess})
  # What every build of a lesson tree shares, in one target: the grader builds it once per slot, ahead of
  # the submissions, without knowing the precompiled headers' names.
  add_custom_target(clusterkit_prebuilt)
  add_dependencies(clusterkit_prebuilt clusterkit_kit clusterkit_pch clusterkit_pch_asio clusterkit_pch_interprocess)
endfunction()

# clusterkit_use_pch(target sources...): the Asio one for a target with a source that includes Asio or
# Boost.Process, else the Interprocess one for a target with a source that includes Boost.Interprocess,
# else the light one. One per target: that is what REUSE_FROM allows.
function(clusterkit_use_pch target)
  set(uses_asio FALSE)
  set(uses_interprocess FALSE)
  foreach(source IN LISTS ARGN)
    file(STRINGS "${source}" asio_includes REGEX "#include <(boost/asio|boost/process|clusterkit/process)")
    file(STRINGS "${source}" interprocess_includes REGEX "#include <boost/interprocess")
    if(asio_includes)
      set(uses_asio TRUE)
    endif()
    if(interprocess_includes)
      set(uses_interprocess TRUE)
    endif()
  endforeach()
  if(uses_asio)
    target_precompile_headers(${target} REUSE_FROM clusterkit_pch_asio)
  elseif(uses_interprocess)
    target_precompile_headers(${target} REUSE_FROM clusterkit_pch_interprocess)
  else()
    target_precompile_headers(${target} REUSE_FROM clusterkit_pch)
  endif()
endfunction()

# clusterkit_add_lesson_library(slug name): the library clusterkit::<name>, built from <name>.cpp of the lesson
# that lessons.json says "provides" it: the one implementation of lib/include/clusterkit/<name>.hpp (lesson 03
# provides the supervisor). It is compiled from the tree being built, so the later lessons run on the
# student's own code and no file a student receives holds that lesson's answer; a tree without the lesson (a
# grader's or the mutant check's copy of another lesson) gets the reference solution's, or, where there is
# none (a student release), the starter's. Every program with a source that includes <clusterkit/<name>.hpp>
# links it (clusterkit_link_lesson_libraries).
function(clusterkit_add_lesson_library slug name)
  foreach(tree IN ITEMS "${CLUSTERKIT_TREE_DIR}" "${PROJECT_SOURCE_DIR}/solutions" "${PROJECT_SOURCE_DIR}/starter")
    if(EXISTS "${tree}/${slug}/${name}.cpp")
      set(source "${tree}/${slug}/${name}.cpp")
      break()
    endif()
  endforeach()
  if(NOT source)
    message(FATAL_ERROR "lesson ${slug} provides ${name}, but no tree has ${slug}/${name}.cpp")
  endif()
  add_library(clusterkit_${name} STATIC "${source}")
  add_library(clusterkit::${name} ALIAS clusterkit_${name})
  target_link_libraries(clusterkit_${name} PUBLIC clusterkit::kit)
  clusterkit_use_pch(clusterkit_${name} "${source}")
  clusterkit_warnings(clusterkit_${name})
  set_property(GLOBAL APPEND PROPERTY CLUSTERKIT_LESSON_LIBRARIES "${slug}:${name}")
endfunction()

# clusterkit_link_lesson_libraries(target sources...): links each lesson library whose header a source includes.
function(clusterkit_link_lesson_libraries target)
  get_property(libraries GLOBAL PROPERTY CLUSTERKIT_LESSON_LIBRARIES)
  foreach(library IN LISTS libraries)
    string(REGEX REPLACE "^.*:" "" name "${library}")
    foreach(source IN LISTS ARGN)
      file(STRINGS "${source}" includes REGEX "#include <clusterkit/${name}\\.hpp>")
      if(includes)
        target_link_libraries(${target} PRIVATE clusterkit::${name})
        break()
      endif()
    endforeach()
  endforeach()
endfunction()

function(clusterkit_add_lesson slug)
  if(NOT slug MATCHES "^([0-9][0-9])-[a-z0-9-]+$")
    message(FATAL_ERROR "clusterkit_add_lesson: '${slug}' is not a lesson folder name like 01-fork-per-cpu")
  endif()
  set(nn "${CMAKE_MATCH_1}")
  set(source_dir "${CLUSTERKIT_TREE_DIR}/${slug}")
  if(NOT IS_DIRECTORY "${source_dir}")
    message(WARNING "lesson ${slug}: ${source_dir} does not exist; its programs are not built")
    return()
  endif()

  file(GLOB all_sources CONFIGURE_DEPENDS "${source_dir}/*.cpp")
  file(GLOB worker_sources CONFIGURE_DEPENDS "${source_dir}/worker*.cpp")
  file(GLOB common_sources CONFIGURE_DEPENDS "${source_dir}/common_*.cpp")
  set(primary_sources ${all_sources})
  list(REMOVE_ITEM primary_sources ${worker_sources} ${common_sources})
  # A file this lesson provides as a kit library is compiled there, once (clusterkit_add_lesson_library).
  get_property(libraries GLOBAL PROPERTY CLUSTERKIT_LESSON_LIBRARIES)
  foreach(library IN LISTS libraries)
    if(library MATCHES "^${slug}:(.*)$")
      list(REMOVE_ITEM primary_sources "${source_dir}/${CMAKE_MATCH_1}.cpp")
    endif()
  endforeach()

  # Code both programs use, compiled once: an edit to it recompiles one file, not one per program.
  set(common_library "")
  if(common_sources)
    set(common_library lesson${nn}-common)
    add_library(${common_library} OBJECT ${common_sources})
    target_link_libraries(${common_library} PUBLIC clusterkit::kit)
    clusterkit_use_pch(${common_library} ${common_sources})
    clusterkit_link_lesson_libraries(${common_library} ${common_sources})
    clusterkit_warnings(${common_library})
  endif()

  add_executable(lesson${nn} ${primary_sources})
  target_link_libraries(lesson${nn} PRIVATE clusterkit::kit ${common_library})
  clusterkit_use_pch(lesson${nn} ${primary_sources})
  clusterkit_link_lesson_libraries(lesson${nn} ${primary_sources})
  clusterkit_warnings(lesson${nn})
  set(programs lesson${nn})
  if(worker_sources)
    add_executable(lesson${nn}-worker ${worker_sources})
    target_link_libraries(lesson${nn}-worker PRIVATE clusterkit::kit ${common_library})
    clusterkit_use_pch(lesson${nn}-worker ${worker_sources})
    clusterkit_link_lesson_libraries(lesson${nn}-worker ${worker_sources})
    clusterkit_warnings(lesson${nn}-worker)
    add_dependencies(lesson${nn} lesson${nn}-worker)  # building lessonNN builds the whole lesson
    list(APPEND programs lesson${nn}-worker)
  endif()

  set(test_dir "${PROJECT_SOURCE_DIR}/tests/${slug}")
  if(NOT CLUSTERKIT_TESTS OR NOT IS_DIRECTORY "${test_dir}")
    return()
  endif()
  file(GLOB test_sources CONFIGURE_DEPENDS "${test_dir}/*.cpp")
  if(NOT test_sources)
    return()
  endif()
  add_executable(test${nn} ${test_sources})
  target_link_libraries(test${nn} PRIVATE clusterkit::testing)
  clusterkit_warnings(test${nn} KIT)
  add_dependencies(lesson${nn} test${nn})
  catch_discover_tests(test${nn}
    TEST_PREFIX "${nn}/"
    PROPERTIES LABELS "${nn}" TIMEOUT 120)
endfunction()
