// The process timeline (tools/kit/timeline.hpp), drawn from a recorded run of lesson 03 in a crash loop.
#include "catch.hpp"

#include "timeline.hpp"

#include <exception>
#include <sstream>
#include <string>

using namespace clusterkit::kit;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t found = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++found;
    return found;
}

// The SVG text of one worker's lane: <g class="lane" id="worker-N"> ... </g>.
std::string lane(const std::string& svg, int id) {
    const auto start = svg.find("<g class=\"lane\" id=\"worker-" + std::to_string(id) + "\">");
    REQUIRE(start != std::string::npos);
    return svg.substr(start, svg.find("</g>", start) - start);
}

const Recording& crash_loop() {
    static const Recording recording = read_recording_file(KIT_TEST_DATA "/crash-loop.events");
    return recording;
}

}  // namespace

TEST_CASE("a recorded event log reads back with its program, status and timed lines", "[kit][timeline]") {
    const auto& recording = crash_loop();
    CHECK(recording.program == "lesson03 --workers 2 --crash-after-ms 150 --max-restarts 3 --within 10");
    CHECK(recording.status == "exited with code 1");
    REQUIRE(recording.lines.size() == 26);
    CHECK(recording.lines.front().text == "primary pid=29045 workers=2");
    CHECK(recording.lines.front().ms == Approx(18.115));

    std::ostringstream written;
    write_recording(written, recording);
    std::istringstream again(written.str());
    CHECK(read_recording(again).lines.size() == recording.lines.size());
}

TEST_CASE("a malformed event log is an error naming the file and line", "[kit][timeline]") {
    std::istringstream bad("# program: lesson01\n12.5 fork id=1 pid=7\nfork id=2 pid=8\n");
    try {
        read_recording(bad, "run.events");
        FAIL("a malformed line was read without an error");
    } catch (const std::exception& error) {
        CHECK(std::string(error.what()).find("run.events:3:") != std::string::npos);
    }
}

TEST_CASE("the timeline has one lane per worker id, and the primary's", "[kit][timeline]") {
    const auto svg = timeline_svg(crash_loop());
    CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(svg.ends_with("</svg>\n"));
    CHECK(count(svg, "<g class=\"lane\"") == 2);
    CHECK(count(svg, ">worker 1</text>") == 1);
    CHECK(count(svg, ">worker 2</text>") == 1);
    CHECK(count(svg, ">primary</text>") == 1);
    CHECK(count(svg, ">pid 29045</text>") == 1);
    CHECK(svg.find("lesson03 --workers 2 --crash-after-ms 150") != std::string::npos);
}

TEST_CASE("each process of a lane is drawn from fork through online to its exit", "[kit][timeline]") {
    const auto svg = timeline_svg(crash_loop());
    const auto first = lane(svg, 1);
    // Worker 1 was held by three processes: the first and two replacements.
    CHECK(count(first, "<title>fork id=1 pid=") == 3);
    CHECK(count(first, "<title>online id=1 pid=") == 3);
    CHECK(count(first, "<line class=\"span\"") == 3);
    CHECK(count(first, ">pid 29046</text>") == 1);
    CHECK(count(first, ">replacement, pid 29054</text>") == 1);
    CHECK(count(first, ">replacement, pid 29064</text>") == 1);
    CHECK(count(first, "class=\"fork replacement\"") == 2);
    CHECK(count(first, "<path class=\"respawn\"") == 2);

    const auto second = lane(svg, 2);
    CHECK(count(second, "<title>fork id=2 pid=") == 2);
    CHECK(count(second, "class=\"fork replacement\"") == 1);
}

TEST_CASE("an exit with a code and an exit by a signal are told apart", "[kit][timeline]") {
    const auto svg = timeline_svg(crash_loop());
    const auto first = lane(svg, 1);
    // Two crashes (code 1, orange squares), then SIGTERM when the primary gave up (a red cross).
    CHECK(count(first, "class=\"exit exit-code exit-failure\"") == 2);
    CHECK(count(first, "class=\"exit exit-signal\"") == 1);
    CHECK(count(first, "<title>exit id=1 pid=29064 signal=SIGTERM") == 1);
    CHECK(count(first, ">SIGTERM</text>") == 1);
    CHECK(count(first, ">code=1</text>") == 2);
    CHECK(count(lane(svg, 2), "class=\"exit exit-code exit-failure\"") == 2);
    CHECK(count(svg, ">done, exited with code 1</text>") == 1);
}

TEST_CASE("a worker that exits 0 gets a grey square, and one still running at the end a dashed line",
          "[kit][timeline]") {
    std::istringstream log("# program: lesson01 --workers 2\n1 primary pid=10 workers=2\n2 fork id=1 pid=11\n"
                           "3 fork id=2 pid=12\n5 exit id=1 pid=11 code=0\n");
    const auto svg = timeline_svg(read_recording(log));
    CHECK(count(lane(svg, 1), "<rect class=\"exit exit-code\"") == 1);
    CHECK(count(lane(svg, 2), "class=\"exit") == 0);
    CHECK(count(lane(svg, 2), "stroke-dasharray=\"6 4\"") == 1);
}

TEST_CASE("text from the program is escaped in the SVG", "[kit][timeline]") {
    std::istringstream log("# program: lesson05 --tag <&>\n1 message id=1 pid=5 note=a<b\n");
    const auto svg = timeline_svg(read_recording(log));
    CHECK(svg.find("--tag &lt;&amp;&gt;") != std::string::npos);
    CHECK(svg.find("note=a&lt;b") != std::string::npos);
    CHECK(svg.find("<&>") == std::string::npos);
}
