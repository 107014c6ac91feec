// The process timeline as an SVG. See timeline.hpp.
#include "timeline.hpp"

#include <clusterkit/events.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace clusterkit::kit {

namespace {

// Layout, in SVG user units.
constexpr double left = 120;         // lane labels to the left of this
constexpr double plot_width = 760;
constexpr double top = 56;           // below the title
constexpr double lane_height = 44;
constexpr double right_margin = 200; // room for the last exit label

std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string number(double value) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << value;
    return text.str();
}

// One process that held a worker id, from its fork to its exit.
struct Span {
    long long pid = 0;
    std::optional<double> fork{}, online{}, exit{};
    std::string exit_field{};  // "code=0", "signal=SIGKILL"
    bool by_signal = false;
    int code = 0;
    std::vector<std::pair<double, std::string>> other{};  // other events of this worker, for ticks
};

struct Lane {
    std::vector<Span> spans;  // in order: the first worker, then its replacements
};

struct Picture {
    std::optional<double> primary_start, done;
    long long primary_pid = 0;
    std::map<long long, Lane> lanes;  // by worker id
    double end = 1;                   // the last time seen, at least 1 ms
};

// The span of process `pid` in the lane; a pid not seen yet in this lane starts a new one (a replacement).
Span& span_for(Lane& lane, long long pid) {
    for (auto& span : lane.spans)
        if (span.pid == pid) return span;
    lane.spans.push_back(Span{.pid = pid});
    return lane.spans.back();
}

Picture read_picture(const record::ProgramRun& run) {
    Picture picture;
    for (const auto& line : run.lines) {
        picture.end = std::max(picture.end, line.ms);
        const auto event = Event::parse(line.text);
        if (!event) continue;
        try {
            if (event->name == "primary") {
                picture.primary_start = line.ms;
                if (event->has("pid")) picture.primary_pid = event->number("pid");
                continue;
            }
            if (event->name == "done") {
                picture.done = line.ms;
                continue;
            }
            if (!event->has("id")) continue;
            const long long id = event->number("id");
            auto& lane = picture.lanes[id];
            const long long pid = event->has("pid") ? event->number("pid") : (lane.spans.empty() ? 0 : lane.spans.back().pid);
            auto& span = span_for(lane, pid);
            if (event->name == "fork") {
                span.fork = line.ms;
            } else if (event->name == "online") {
                span.online = line.ms;
            } else if (event->name == "exit") {
                span.exit = line.ms;
                if (event->has("signal")) {
                    span.by_signal = true;
                    span.exit_field = event->text("signal");
                } else if (event->has("code")) {
                    span.code = static_cast<int>(event->number("code"));
                    span.exit_field = "code=" + event->text("code");
                }
            } else {
                span.other.emplace_back(line.ms, line.text);
            }
        } catch (const std::exception&) {
            continue;  // an event with a malformed number is not drawn
        }
    }
    return picture;
}

// A round step for the time axis: 1, 2 or 5 times a power of ten, about 8 ticks over `end`.
double tick_step(double end) {
    const double raw = end / 8;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0, 10.0})
        if (factor * power >= raw) return factor * power;
    return 10 * power;
}

}  // namespace

void write_event_log(std::ostream& out, const record::ProgramRun& run) {
    if (!run.command.empty()) out << "# program: " << run.command << '\n';
    if (!run.ended.empty()) out << "# status: " << run.ended << '\n';
    for (const auto& line : run.lines) out << std::fixed << std::setprecision(3) << line.ms << ' ' << line.text << '\n';
}

std::string timeline_svg(const record::ProgramRun& run) {
    const auto picture = read_picture(run);
    const double end = picture.end * 1.02;
    auto x = [&](double ms) { return left + ms / end * plot_width; };
    const std::size_t lanes = picture.lanes.size() + 1;  // the primary's lane first
    const double height = top + static_cast<double>(lanes) * lane_height + 70;
    const double width = left + plot_width + right_margin;

    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << number(width) << "\" height=\"" << number(height)
        << "\" viewBox=\"0 0 " << number(width) << ' ' << number(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg << "<style>.lane-label{font-weight:bold}.axis{stroke:#999}.span{stroke:#4a7bd0;stroke-width:4}"
           ".primary-span{stroke:#999;stroke-width:4}.fork{fill:white;stroke:#4a7bd0;stroke-width:2}.online{fill:#2a9d3a}.exit-code{fill:#888}"
           ".exit-failure{fill:#e08a00}.exit-signal{stroke:#d02020;stroke-width:3}.respawn{stroke:#d02020;"
           "stroke-dasharray:3 3;fill:none}.event{stroke:#555}.label{fill:#333}.signal-label{fill:#d02020}"
           ".failure-label{fill:#b06a00}</style>\n";
    svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg << "<text class=\"title\" x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
        << escape(run.command.empty() ? "process timeline" : run.command) << "</text>\n";
    svg << "<text x=\"10\" y=\"42\">" << escape(run.ended)
        << (run.ended.empty() ? "" : "; ") << "times are when the reader saw each event line</text>\n";

    // Time axis.
    const double axis_y = top + static_cast<double>(lanes) * lane_height + 8;
    svg << "<line class=\"axis\" x1=\"" << number(left) << "\" y1=\"" << number(axis_y) << "\" x2=\""
        << number(left + plot_width) << "\" y2=\"" << number(axis_y) << "\"/>\n";
    const double step = tick_step(end);
    for (double t = 0; t <= end; t += step) {
        svg << "<line class=\"axis\" x1=\"" << number(x(t)) << "\" y1=\"" << number(top) << "\" x2=\"" << number(x(t))
            << "\" y2=\"" << number(axis_y + 4) << "\" stroke-opacity=\"0.25\"/>\n";
        svg << "<text class=\"tick\" x=\"" << number(x(t)) << "\" y=\"" << number(axis_y + 18)
            << "\" text-anchor=\"middle\">" << (step >= 1 ? std::to_string(std::lround(t)) : number(t)) << " ms</text>\n";
    }

    // The primary's lane.
    double y = top + lane_height / 2;
    svg << "<text class=\"lane-label\" x=\"10\" y=\"" << number(y + 4) << "\">primary</text>\n";
    if (picture.primary_start) {
        const double stop = picture.done.value_or(picture.end);
        svg << "<line class=\"primary-span\" x1=\"" << number(x(*picture.primary_start)) << "\" y1=\"" << number(y)
            << "\" x2=\"" << number(x(stop)) << "\" y2=\"" << number(y) << "\"/>\n";
        svg << "<text class=\"label\" x=\"" << number(x(*picture.primary_start)) << "\" y=\"" << number(y - 8)
            << "\">pid " << picture.primary_pid << "</text>\n";
    }
    if (picture.done || !run.ended.empty())
        svg << "<text class=\"label done\" x=\"" << number(x(picture.done.value_or(picture.end)) + 6) << "\" y=\""
            << number(y + 4) << "\">" << (picture.done ? "done" : "") << (picture.done && !run.ended.empty() ? ", " : "")
            << escape(run.ended) << "</text>\n";

    // One lane per worker id.
    for (const auto& [id, lane] : picture.lanes) {
        y += lane_height;
        svg << "<g class=\"lane\" id=\"worker-" << id << "\">\n";
        svg << "<text class=\"lane-label\" x=\"10\" y=\"" << number(y + 4) << "\">worker " << id << "</text>\n";
        std::optional<double> previous_exit;
        for (std::size_t i = 0; i < lane.spans.size(); ++i) {
            const auto& span = lane.spans[i];
            const double start = span.fork.value_or(span.online.value_or(0));
            const double stop = span.exit.value_or(picture.done.value_or(picture.end));
            const bool replacement = i > 0;
            svg << "<line class=\"span\" x1=\"" << number(x(start)) << "\" y1=\"" << number(y) << "\" x2=\""
                << number(x(stop)) << "\" y2=\"" << number(y) << "\"" << (span.exit ? "" : " stroke-dasharray=\"6 4\"")
                << "/>\n";
            svg << "<text class=\"label\" x=\"" << number(x(start)) << "\" y=\"" << number(y - 9) << "\">"
                << (replacement ? "replacement, pid " : "pid ") << span.pid << "</text>\n";
            if (replacement && previous_exit)
                svg << "<path class=\"respawn\" d=\"M" << number(x(*previous_exit)) << ' ' << number(y + 8) << " Q"
                    << number((x(*previous_exit) + x(start)) / 2) << ' ' << number(y + 20) << ' ' << number(x(start))
                    << ' ' << number(y + 8) << "\"/>\n";
            if (span.fork)
                svg << "<circle class=\"fork" << (replacement ? " replacement" : "") << "\" cx=\"" << number(x(*span.fork))
                    << "\" cy=\"" << number(y) << "\" r=\"6\"><title>fork id=" << id << " pid=" << span.pid << " at "
                    << number(*span.fork) << " ms</title></circle>\n";
            for (const auto& [ms, text] : span.other)
                svg << "<line class=\"event\" x1=\"" << number(x(ms)) << "\" y1=\"" << number(y - 6) << "\" x2=\""
                    << number(x(ms)) << "\" y2=\"" << number(y + 6) << "\"><title>" << escape(text) << " at "
                    << number(ms) << " ms</title></line>\n";
            if (span.online)
                svg << "<circle class=\"online\" cx=\"" << number(x(*span.online)) << "\" cy=\"" << number(y)
                    << "\" r=\"4\"><title>online id=" << id << " pid=" << span.pid << " at " << number(*span.online)
                    << " ms</title></circle>\n";
            if (span.exit) {
                const double ex = x(*span.exit);
                const std::string title = "<title>exit id=" + std::to_string(id) + " pid=" + std::to_string(span.pid) +
                                          (span.by_signal ? " signal=" : " ") + span.exit_field + " at " + number(*span.exit) + " ms</title>";
                if (span.by_signal) {
                    svg << "<path class=\"exit exit-signal\" d=\"M" << number(ex - 5) << ' ' << number(y - 5) << " L"
                        << number(ex + 5) << ' ' << number(y + 5) << " M" << number(ex - 5) << ' ' << number(y + 5)
                        << " L" << number(ex + 5) << ' ' << number(y - 5) << "\">" << title << "</path>\n";
                } else {
                    svg << "<rect class=\"exit exit-code" << (span.code != 0 ? " exit-failure" : "") << "\" x=\""
                        << number(ex - 5) << "\" y=\"" << number(y - 5) << "\" width=\"10\" height=\"10\">" << title
                        << "</rect>\n";
                }
                const char* label_class = span.by_signal ? "signal-label" : (span.code != 0 ? "failure-label" : "label");
                // Left of the exit mark, under the span that ended: the replacement's arc goes right.
                svg << "<text class=\"" << label_class << "\" x=\"" << number(ex - 7) << "\" y=\"" << number(y + 17)
                    << "\" text-anchor=\"end\">" << escape(span.exit_field) << "</text>\n";
                previous_exit = span.exit;
            }
        }
        svg << "</g>\n";
    }

    // Legend.
    const double legend_y = axis_y + 40;
    svg << "<g class=\"legend\" transform=\"translate(" << number(left) << ' ' << number(legend_y) << ")\">"
        << "<circle class=\"fork\" cx=\"0\" cy=\"0\" r=\"6\"/><text x=\"10\" y=\"4\">fork</text>"
        << "<circle class=\"online\" cx=\"70\" cy=\"0\" r=\"4\"/><text x=\"80\" y=\"4\">online</text>"
        << "<rect class=\"exit-code\" x=\"145\" y=\"-5\" width=\"10\" height=\"10\"/><text x=\"160\" y=\"4\">exit code 0</text>"
        << "<rect class=\"exit-code exit-failure\" x=\"250\" y=\"-5\" width=\"10\" height=\"10\"/><text x=\"265\" y=\"4\">exit code &#8800; 0</text>"
        << "<path class=\"exit-signal\" d=\"M360 -5 L370 5 M360 5 L370 -5\"/><text x=\"376\" y=\"4\">killed by a signal</text>"
        << "<path class=\"respawn\" d=\"M500 0 Q515 12 530 0\"/><text x=\"536\" y=\"4\">replaced</text></g>\n";
    svg << "</svg>\n";
    return svg.str();
}

void write_timeline(const std::filesystem::path& file, const record::ProgramRun& run) {
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file);
    out << timeline_svg(run);
    if (!out) throw std::runtime_error(file.string() + ": cannot be written");
    std::cout << "kit: timeline written to " << file.string() << '\n';
}

}  // namespace clusterkit::kit
