# clusterkit_add_lesson(NN-name): everything CMake knows about a lesson comes from its folder name.
#
# Programs, from <tree>/NN-name/ where <tree> is CLUSTERKIT_TREE (solutions, starter or a student's copy):
#   lessonNN         from every .cpp file except worker*.cpp
#   lessonNN-worker  from worker*.cpp, when the lesson has a separate worker program
# common_*.cpp files go into both programs. A lesson that builds on another ("builds_on" in lessons.json) also
# has that lesson's .cpp files, except those it replaces with its own of the same name. Each file compiles
# once, into an object library that the programs link.
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
# three or more. Four of them, because a big one costs time to load: clusterkit_pch (Program_options and
# the kit) for every program, clusterkit_pch_asio (plus Asio and Boost.Process) for programs that include
# those, clusterkit_pch_web (plus Asio's TCP, Beast's HTTP and Boost.JSON) for programs that include one of
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
  set(web <boost/asio/ip/tcp.hpp> <boost/asio/post.hpp>
    <boost/beast/core/flat_buffer.hpp> <boost/beast/core/ostream.hpp> <boost/beast/http/message.hpp>
    <boost/beast/http/string_body.hpp> <boost/beast/http/parser.hpp> <boost/beast/http/read.hpp>
    <boost/beast/http/write.hpp>
    <boost/json/value.hpp> <boost/json/parse.hpp> <boost/json/serializer.hpp>)
  set(interprocess <filesystem> <boost/interprocess/managed_shared_memory.hpp>
    <boost/interprocess/sync/interprocess_mutex.hpp> <boost/interprocess/sync/scoped_lock.hpp>)
  foreach(name IN ITEMS clusterkit_pch clusterkit_pch_asio clusterkit_pch_web clusterkit_pch_interprocess)
    add_library(${name} STATIC EXCLUDE_FROM_ALL "${PROJECT_SOURCE_DIR}/cmake/pch.cpp")
    target_link_libraries(${name} PRIVATE clusterkit::kit)
    clusterkit_warnings(${name})
  endforeach()
  target_precompile_headers(clusterkit_pch PRIVATE ${light})
  target_precompile_headers(clusterkit_pch_asio PRIVATE ${light} ${heavy})
  target_precompile_headers(clusterkit_pch_web PRIVATE ${light} ${heavy} ${web})
  target_precompile_headers(clusterkit_pch_interprocess PRIVATE ${light} ${interprocess})
  # What every build of a lesson tree shares, in one target: the grader builds it once per slot, ahead of
  # the submissions, without knowing the precompiled headers' names.
  add_custom_target(clusterkit_prebuilt)
  add_dependencies(clusterkit_prebuilt clusterkit_kit clusterkit_pch clusterkit_pch_asio clusterkit_pch_web
    clusterkit_pch_interprocess)
endfunction()

# clusterkit_include_lines(<var> <dirs> <files>...): the #include lines of the files and, one level after another,
# of every header of the project they include (found beside the including file, in <dirs> or in lib/include):
# a source that includes only "primary.hpp" uses whatever primary.hpp includes.
function(clusterkit_include_lines var dirs)
  set(pending ${ARGN})
  set(seen "")
  set(lines "")
  while(pending)
    list(POP_FRONT pending file)
    if(file IN_LIST seen)
      continue()
    endif()
    list(APPEND seen "${file}")
    get_filename_component(here "${file}" DIRECTORY)
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line IN LISTS includes)
      list(APPEND lines "${line}")
      if(line MATCHES "include[ \t]*[<\"]([^>\"]+)[>\"]")
        set(header "${CMAKE_MATCH_1}")
        foreach(dir IN ITEMS "${here}" ${dirs} "${PROJECT_SOURCE_DIR}/lib/include")
          if(EXISTS "${dir}/${header}" AND NOT IS_DIRECTORY "${dir}/${header}")
            list(APPEND pending "${dir}/${header}")
            break()
          endif()
        endforeach()
      endif()
    endforeach()
  endwhile()
  set(${var} "${lines}" PARENT_SCOPE)
endfunction()

# clusterkit_use_pch(target sources...): the smallest precompiled header that covers what the sources include,
# with the project's headers they include (clusterkit_include_lines, through the target's include directories):
# the web one for TCP, Beast or Boost.JSON, else the Asio one for Asio or Boost.Process, else the Interprocess
# one for Boost.Interprocess, else the light one. One per target: that is what REUSE_FROM allows.
function(clusterkit_use_pch target)
  get_target_property(dirs ${target} INCLUDE_DIRECTORIES)
  if(NOT dirs)
    set(dirs "")
  endif()
  clusterkit_include_lines(lines "${dirs}" ${ARGN})
  set(pch clusterkit_pch)
  if(lines MATCHES "<boost/(asio/ip|beast|json)")
    set(pch clusterkit_pch_web)
  elseif(lines MATCHES "[<\"](boost/asio|boost/process|clusterkit/process)")
    set(pch clusterkit_pch_asio)
  elseif(lines MATCHES "<boost/interprocess")
    set(pch clusterkit_pch_interprocess)
  endif()
  target_precompile_headers(${target} REUSE_FROM ${pch})
endfunction()

# clusterkit_lesson_object(<source> <var>): the object library of one lesson source file, made the first time a
# program asks for it: a file that several lessons' programs use (a lesson builds on another) compiles once. Its
# include path is its own lesson's folder, then those of the lessons that lesson builds on.
function(clusterkit_lesson_object source var)
  get_filename_component(dir "${source}" DIRECTORY)
  get_filename_component(lesson "${dir}" NAME)
  get_filename_component(name "${source}" NAME_WE)
  set(target "${lesson}.${name}")
  if(NOT TARGET ${target})
    add_library(${target} OBJECT "${source}")
    clusterkit_lesson_dirs(${lesson} dirs)
    target_include_directories(${target} PRIVATE ${dirs})
    target_link_libraries(${target} PUBLIC clusterkit::kit)
    clusterkit_use_pch(${target} "${source}")
    clusterkit_warnings(${target})
  endif()
  set(${var} ${target} PARENT_SCOPE)
endfunction()

# clusterkit_lesson_dirs(<slug> <var>): the folders of a lesson and of the lessons it builds on, in CLUSTERKIT_TREE,
# nearest first, with symbolic links resolved: the mutant check links the lessons it does not change to
# solutions/, and their files then compile once for every variant.
function(clusterkit_lesson_dirs slug var)
  clusterkit_lesson_chain(${slug} chain)
  set(dirs "")
  foreach(lesson IN LISTS chain)
    set(dir "${CLUSTERKIT_TREE_DIR}/${lesson}")
    if(NOT IS_DIRECTORY "${dir}")
      message(FATAL_ERROR "lesson ${slug} builds on ${lesson}, but ${dir} does not exist")
    endif()
    file(REAL_PATH "${dir}" dir)
    list(APPEND dirs "${dir}")
  endforeach()
  set(${var} "${dirs}" PARENT_SCOPE)
endfunction()

# clusterkit_lesson_sources(<slug> <var>): the .cpp files of a lesson's programs. A lesson that builds on
# another ("builds_on" in lessons/lessons.json) has that lesson's files too, except those it has a file of the
# same name for: lesson 07's main.cpp takes the place of lesson 06's, and lesson 06's listener.cpp and worker
# files are compiled into lesson 07's programs as they are. Nothing is copied from one lesson to the next.
function(clusterkit_lesson_sources slug var)
  clusterkit_lesson_dirs(${slug} dirs)
  set(names "")
  set(sources "")
  foreach(dir IN LISTS dirs)
    file(GLOB found CONFIGURE_DEPENDS "${dir}/*.cpp")
    foreach(source IN LISTS found)
      get_filename_component(name "${source}" NAME)
      if(NOT name IN_LIST names)
        list(APPEND names "${name}")
        list(APPEND sources "${source}")
      endif()
    endforeach()
  endforeach()
  set(${var} "${sources}" PARENT_SCOPE)
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

# clusterkit_lesson_program(<target> <sources>...): a lesson's program from the object libraries of its sources,
# linked with the kit and with each lesson library whose header one of them includes.
function(clusterkit_lesson_program target)
  set(objects "")
  foreach(source IN LISTS ARGN)
    clusterkit_lesson_object("${source}" object)
    list(APPEND objects "$<TARGET_OBJECTS:${object}>")
  endforeach()
  add_executable(${target} ${objects})
  target_link_libraries(${target} PRIVATE clusterkit::kit)
  clusterkit_link_lesson_libraries(${target} ${ARGN})
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

  # Every source compiles once, into an object library (clusterkit_lesson_object); the programs link them:
  # worker*.cpp make lessonNN-worker, common_*.cpp go into both programs, the rest make lessonNN. A file this
  # lesson provides as a kit library is compiled there instead, once (clusterkit_add_lesson_library).
  clusterkit_lesson_sources(${slug} sources)
  get_property(libraries GLOBAL PROPERTY CLUSTERKIT_LESSON_LIBRARIES)
  foreach(library IN LISTS libraries)
    if(library MATCHES "^${slug}:(.*)$")
      list(FILTER sources EXCLUDE REGEX "/${slug}/${CMAKE_MATCH_1}\\.cpp$")
    endif()
  endforeach()
  set(primary_sources "")
  set(worker_sources "")
  set(common_sources "")
  foreach(source IN LISTS sources)
    get_filename_component(name "${source}" NAME)
    if(name MATCHES "^worker")
      list(APPEND worker_sources "${source}")
    elseif(name MATCHES "^common_")
      list(APPEND common_sources "${source}")
    else()
      list(APPEND primary_sources "${source}")
    endif()
  endforeach()

  clusterkit_lesson_program(lesson${nn} ${primary_sources} ${common_sources})
  if(worker_sources)
    clusterkit_lesson_program(lesson${nn}-worker ${worker_sources} ${common_sources})
    add_dependencies(lesson${nn} lesson${nn}-worker)  # building lessonNN builds the whole lesson
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
