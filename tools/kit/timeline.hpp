// A picture of what happened: a run's process timeline as an SVG, drawn from its event lines and the times
// they were read. One lane per worker id; in it, each process that held the id: fork (hollow circle),
// online (green dot), exit (grey square for code 0, orange for another code, red cross for a signal). A
// replacement starts again in the same lane, so a respawn, or a crash loop, shows at a glance.
//
// The event log ("recording") is text, one line read from the program's stdout per line:
//     # program: lesson03 --workers 2
//     # status: exited with code 0
//     12.480 fork id=1 pid=4242          <- milliseconds since the program started, then the line
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace clusterkit::kit {

struct TimedLine {
    double ms = 0;      // when the reader saw the line, since the program started
    std::string text;
};

struct Recording {
    std::string program;  // the command line, for the title
    std::string status;   // how it ended ("exited with code 0"), if known
    std::vector<TimedLine> lines;
};

// Throws std::runtime_error naming the line for a malformed recording.
Recording read_recording(std::istream& in, const std::string& name = "recording");
Recording read_recording_file(const std::filesystem::path& file);
void write_recording(std::ostream& out, const Recording& recording);

// The SVG document.
std::string timeline_svg(const Recording& recording);

// Writes the SVG of `recording` to `file` (and says so on stdout).
void write_timeline(const std::filesystem::path& file, const Recording& recording);

}  // namespace clusterkit::kit
