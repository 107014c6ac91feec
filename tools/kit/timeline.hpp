// A picture of what happened: a run's process timeline as an SVG, drawn from its event lines and the times
// they were read. One lane per worker id; in it, each process that held the id: fork (hollow circle),
// online (green dot), exit (grey square for code 0, orange for another code, red cross for a signal). A
// replacement starts again in the same lane, so a respawn, or a crash loop, shows at a glance.
//
// Drawn from a program run as the tests record it (tests/support/record.hpp: `kit verify --timeline`) or as
// `kit run --timeline` reads it: each stdout line with the time it was read.
#pragma once

#include "record.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace clusterkit::kit {

// The event log of a run, as text for people (`kit run --timeline` keeps it beside the picture):
//     # program: lesson03 --workers 2
//     # status: exited with code 0
//     12.480 fork id=1 pid=4242          <- milliseconds since the program started, then the line
void write_event_log(std::ostream& out, const record::ProgramRun& run);

// The SVG document.
std::string timeline_svg(const record::ProgramRun& run);

// Writes the SVG of `run` to `file` (and says so on stdout).
void write_timeline(const std::filesystem::path& file, const record::ProgramRun& run);

}  // namespace clusterkit::kit
