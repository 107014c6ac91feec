// kit watch [NN]: verify the lesson again each time a file of its folder is saved (inotify), on a clear
// screen. Ctrl-C leaves.
//
// It waits on events, not on time: after a verdict it waits for the next inotify event; a save that
// happened while the checks ran is already queued, so it is seen at once. An editor's burst of events for one save
// (write a backup, rename, change attributes) is read in one go and gives one verification.
#include "args.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "exec.hpp"
#include "verdict.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>

#include <array>
#include <fstream>
#include <iostream>
#include <csignal>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace clusterkit::kit {

namespace {

constexpr std::uint32_t saved = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM;

// Editors' own files are not the student's code: vim's swap files and its "4913" probe, emacs's lock and
// backup files.
bool is_source_file(std::string_view name) {
    if (name.empty() || name.starts_with('.') || name.starts_with('#') || name.ends_with('~')) return false;
    if (name == "4913" || name.ends_with(".swp") || name.ends_with(".swx") || name.ends_with(".tmp")) return false;
    return true;
}

// Which of the events in `bytes` (a read from an inotify descriptor) name a source file.
bool any_source_file(const char* bytes, std::size_t size) {
    for (std::size_t at = 0; at + sizeof(inotify_event) <= size;) {
        const auto* event = reinterpret_cast<const inotify_event*>(bytes + at);
        if (event->len > 0 && is_source_file(event->name)) return true;
        at += sizeof(inotify_event) + event->len;
    }
    return false;
}

// Waits for inotify events with ppoll(2). SIGINT and SIGTERM are blocked except inside ppoll, so a Ctrl-C
// either arrives while it waits (ppoll returns EINTR) or stays pending until then: it is never missed.
// The kit's Asio signal handler (catch_interrupts) records it; running the loop here lets it do so.
class Watcher {
public:
    explicit Watcher(const fs::path& folder) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
        if (!fd_.is_open()) throw_system_error("inotify_init1");
        if (::inotify_add_watch(fd_.get(), folder.c_str(), saved) == -1)
            throw_system_error("inotify_add_watch " + folder.string());
    }

    // Waits until a source file is saved (true) or the user presses Ctrl-C (false). Reads every event
    // already queued, so one save (an editor's burst of events) gives one verification.
    bool wait_for_save() {
        sigset_t interrupts, unblocked;
        sigemptyset(&interrupts);
        sigaddset(&interrupts, SIGINT);
        sigaddset(&interrupts, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &interrupts, &unblocked);
        sigdelset(&unblocked, SIGINT);
        sigdelset(&unblocked, SIGTERM);
        bool changed = false;
        while (!changed) {
            run_signal_handlers();
            if (interrupted()) break;
            pollfd ready{.fd = fd_.get(), .events = POLLIN, .revents = 0};
            if (::ppoll(&ready, 1, nullptr, &unblocked) == -1) {
                if (errno == EINTR) continue;
                throw_system_error("ppoll");
            }
            changed = read_queued_events();
        }
        ::sigprocmask(SIG_UNBLOCK, &interrupts, nullptr);
        run_signal_handlers();
        return changed && !interrupted();
    }

private:
    static void run_signal_handlers() {
        auto& context = kit_context();
        if (context.stopped()) context.restart();
        context.poll();
    }

    // Reads what is queued, without waiting; true if an event names a source file.
    bool read_queued_events() {
        bool source = false;
        for (;;) {
            const auto size = ::read(fd_.get(), buffer_.data(), buffer_.size());
            if (size <= 0) break;  // EAGAIN: nothing more queued
            source = any_source_file(buffer_.data(), static_cast<std::size_t>(size)) || source;
        }
        return source;
    }

    UniqueFd fd_;
    alignas(inotify_event) std::array<char, 16 * 1024> buffer_{};
};

}  // namespace

int command_watch(const Args& args) {
    const auto values = parse_args(args, "watch [NN] [--all]", lesson_check_options(), lesson_word());

    catch_interrupts();
    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const Build build(root, "starter");
    build.configure(false);
    const Lesson* lesson = nullptr;
    if (values.count("lesson")) {
        lesson = &find_lesson(lessons, values["lesson"].as<std::string>());
    } else {
        lesson = first_not_passing(build, lessons).lesson;
        if (!lesson) lesson = &lessons.back();
    }
    const auto folder = student_tree() / lesson->slug;
    Watcher watcher(folder);
    std::ofstream(current_lesson_file(root)) << lesson->number << '\n';

    const RunOptions run_options{.stop_at_first_failure = values.count("all") == 0};
    const bool color = terminal_wants_color();
    do {
        if (color) std::cout << "\033[2J\033[H";  // clear the screen, cursor home
        const auto check = check_lesson(build, *lesson, run_options, false, true);
        if (interrupted()) break;
        print_verdict(std::cout, root, *lesson, check, {.verbose = false, .color = color});
        std::cout << "\nkit watch: verifying lesson " << lesson->number << " again each time you save a file in "
                  << (student_tree_is_a_copy() ? folder.string() : fs::relative(folder, root).string())
                  << ". Ctrl-C leaves." << std::endl;
    } while (watcher.wait_for_save());
    std::cout << "\nkit watch: bye" << std::endl;
    return 0;
}

}  // namespace clusterkit::kit
