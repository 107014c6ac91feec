// kit run NN [--solution] [--timeline FILE.svg] [--verbose] [--] [ARGS...]: build the student's program for
// lesson NN (or the reference solution) and run it with ARGS, so a student can try it by hand. The kit's
// own options may come anywhere before "--"; every other word goes to the program.
//
// With --timeline, the program's stdout is read line by line as it comes (and echoed), each line stamped
// with the time it was read; the event lines are then drawn as a process timeline (timeline.hpp), and the
// event log is kept beside the picture (FILE.events).
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "timeline.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/process.hpp>

#include <boost/asio/read_until.hpp>
#include <boost/asio/readable_pipe.hpp>

#include <fstream>
#include <iostream>
#include <functional>
#include <optional>
#include <sstream>

namespace clusterkit::kit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

struct RunCommand {
    std::string lesson;
    bool solution = false;
    bool verbose = false;
    std::optional<fs::path> timeline;
    std::vector<std::string> program_args;
};

// The kit's options anywhere before "--"; the first other word is the lesson, the rest go to the program.
RunCommand parse_run_args(const Args& args) {
    po::options_description options("options (every other word goes to the program)");
    options.add_options()
        ("solution", "run the reference solution instead of your code")
        ("timeline", po::value<std::string>(), "draw the run's processes as an SVG file (and keep FILE.events)")
        ("verbose", "show the whole build output");
    RunCommand run;
    const auto values = parse_args_and_rest(args, "run NN [--solution] [--timeline FILE.svg] [--verbose] [--] [ARGS...]",
                                            options, run.program_args);
    if (run.program_args.empty()) throw UsageError("which lesson? usage: ./kit run NN [ARGS...]");
    run.lesson = run.program_args.front();
    run.program_args.erase(run.program_args.begin());
    run.solution = values.count("solution") > 0;
    run.verbose = values.count("verbose") > 0;
    if (values.count("timeline")) run.timeline = values["timeline"].as<std::string>();
    return run;
}

// Runs the program with its stdout read by the kit, each line echoed and stamped; stdin and stderr are the
// terminal's. A Ctrl-C reaches the program (it is in the terminal's process group) and the kit waits for it.
record::ProgramRun run_recorded(const fs::path& program, const std::vector<std::string>& args, WaitStatus& status) {
    using Clock = std::chrono::steady_clock;
    auto& context = kit_context();
    asio::readable_pipe out(context);
    record::ProgramRun recording;
    recording.command = program.filename().string();
    for (const auto& arg : args) recording.command += " " + arg;
    const auto start = Clock::now();
    bp::process child(context, program, args, bp::process_stdio{{}, out, {}});
    recording.pid = child.id();

    std::string buffer;
    bool out_closed = false;
    std::function<void()> read_line = [&] {
        asio::async_read_until(out, asio::dynamic_buffer(buffer), '\n', [&](boost::system::error_code error, std::size_t size) {
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            if (error) {
                if (!buffer.empty()) recording.lines.push_back({ms, std::exchange(buffer, {})});
                out_closed = true;
                return;
            }
            std::string line = buffer.substr(0, size - 1);
            buffer.erase(0, size);
            std::cout << line << std::endl;
            recording.lines.push_back({ms, std::move(line)});
            read_line();
        });
    };
    read_line();
    status = wait_for(child);
    while (!out_closed) {  // what is still in the pipe; a worker left behind keeps it open: stop waiting then
        if (context.stopped()) context.restart();
        if (context.run_one_for(std::chrono::seconds(2)) == 0) break;
    }
    if (!out_closed) out.close();
    recording.ended = status.describe();
    return recording;
}

}  // namespace

int command_run(const Args& args) {
    const auto options = parse_run_args(args);
    catch_interrupts();
    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const auto& lesson = find_lesson(lessons, options.lesson);
    const Build build(root, options.solution ? "solutions" : "starter");
    build.configure(options.verbose);
    const auto built = build.build_lesson(lesson, options.verbose);
    if (!built.ok) {
        std::cerr << "kit: lesson " << lesson.number << " does not build. The compiler's first error:\n\n"
                  << built.first_error << "\n(the whole log: " << fs::relative(built.log, root).string() << ")\n";
        return 1;
    }
    if (interrupted()) return 130;
    const auto program = build.program("lesson" + lesson.number);
    std::cerr << "kit: running " << fs::relative(program, root).string();
    for (const auto& arg : options.program_args) std::cerr << ' ' << arg;
    std::cerr << std::endl;

    WaitStatus status;
    if (!options.timeline) {
        status = run_in_terminal({program, options.program_args});
    } else {
        const auto recording = run_recorded(program, options.program_args, status);
        auto events = *options.timeline;
        events += ".events";
        std::ofstream(events) << [&] {
            std::ostringstream text;
            write_event_log(text, recording);
            return text.str();
        }();
        write_timeline(*options.timeline, recording);
        std::cout << "kit: the event log it was drawn from: " << events.string() << '\n';
    }
    std::cerr << "kit: lesson" << lesson.number << ' ' << status.describe() << std::endl;
    return shell_status(status);
}

}  // namespace clusterkit::kit
