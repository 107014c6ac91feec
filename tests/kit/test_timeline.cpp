// The process timeline (tools/kit/timeline.hpp), drawn from a recorded run of lesson 03 in a crash loop
// (crash-loop.jsonl, in the tests' record format: tests/support/record.hpp).
#include "catch.hpp"

#include "record.hpp"
#include "repo.hpp"
#include "timeline.hpp"

#include <exception>
#include <sstream>
#include <string>

using namespace clusterkit::kit;
namespace record = clusterkit::record;

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

const record::ProgramRun& crash_loop() {
    static const auto cases = record::read_records(read_file(KIT_TEST_DATA "/crash-loop.jsonl"));
    return cases.at(0).runs.at(0);
}

// A run made of "MILLISECONDS LINE" pairs.
record::ProgramRun run_of(std::string command, const std::vector<std::pair<double, std::string>>& lines) {
    record::ProgramRun run{.command = std::move(command)};
    for (const auto& [ms, text] : lines) run.lines.push_back({ms, text});
    return run;
}

}  // namespace

TEST_CASE("a recorded run reads back with its command, status and timed lines", "[kit][timeline]") {
    const auto& run = crash_loop();
    CHECK(run.command == "lesson03 --workers 2 --crash-after-ms 150 --max-restarts 3 --within 10");
    CHECK(run.ended == "exited with code 1");
    REQUIRE(run.lines.size() == 26);
    CHECK(run.lines.front().text == "primary pid=29045 workers=2");
    CHECK(run.lines.front().ms == Approx(18.115));
}

TEST_CASE("the event log kept beside a picture has the command, the status and one timed line each",
          "[kit][timeline]") {
    std::ostringstream log;
    write_event_log(log, crash_loop());
    CHECK(log.str().starts_with("# program: lesson03 --workers 2 --crash-after-ms 150"));
    CHECK(log.str().find("\n# status: exited with code 1\n18.115 primary pid=29045 workers=2\n") != std::string::npos);
    CHECK(count(log.str(), "\n") == 2 + 26);
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
    const auto svg = timeline_svg(run_of("lesson01 --workers 2", {{1, "primary pid=10 workers=2"},
                                                                  {2, "fork id=1 pid=11"},
                                                                  {3, "fork id=2 pid=12"},
                                                                  {5, "exit id=1 pid=11 code=0"}}));
    CHECK(count(lane(svg, 1), "<rect class=\"exit exit-code\"") == 1);
    CHECK(count(lane(svg, 2), "class=\"exit") == 0);
    CHECK(count(lane(svg, 2), "stroke-dasharray=\"6 4\"") == 1);
}

TEST_CASE("text from the program is escaped in the SVG", "[kit][timeline]") {
    const auto svg = timeline_svg(run_of("lesson05 --tag <&>", {{1, "message id=1 pid=5 note=a<b"}}));
    CHECK(svg.find("--tag &lt;&amp;&gt;") != std::string::npos);
    CHECK(svg.find("note=a&lt;b") != std::string::npos);
    CHECK(svg.find("<&>") == std::string::npos);
}
