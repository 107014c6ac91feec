// Worker programs on disk, for the tests. See deploy.hpp.
#include "deploy.hpp"

#include <clusterkit/errors.hpp>

#include <fcntl.h>
#include <fstream>
#include <random>
#include <span>
#include <sys/stat.h>
#include <unistd.h>

namespace clusterkit::testing {
namespace fs = std::filesystem;

Deployment::Deployment() {
    std::random_device random;
    for (int attempt = 0; attempt < 100 && dir_.empty(); ++attempt) {
        auto candidate = fs::temp_directory_path() / ("clusterkit-deploy-" + std::to_string(random()));
        if (fs::create_directory(candidate)) dir_ = std::move(candidate);
    }
    if (dir_.empty()) throw std::runtime_error("cannot make a temporary folder for a deployment");
}

Deployment::~Deployment() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

std::string Deployment::current() const { return (dir_ / "current").string(); }

void Deployment::deploy(const fs::path& program) {
    const auto next = dir_ / "current.next";
    fs::remove(next);
    fs::create_symlink(program, next);
    fs::rename(next, dir_ / "current");  // rename(2) replaces the old link in one step
}

fs::path Deployment::script(std::string_view name, std::string_view body) const {
    const auto path = dir_ / std::string(name);
    std::ofstream(path) << "#!/bin/sh\n" << body << '\n';
    fs::permissions(path, fs::perms::owner_all);
    return path;
}

fs::path Deployment::copy(const fs::path& program, std::string_view name) const {
    const auto path = dir_ / std::string(name);
    fs::copy_file(program, path, fs::copy_options::overwrite_existing);
    fs::permissions(path, fs::perms::owner_all);
    return path;
}

Gate::Gate(const fs::path& path) : path_(path) {
    if (::mkfifo(path.c_str(), 0600) != 0) throw_system_error("mkfifo " + path.string());
    // O_RDWR: opening a FIFO this way never blocks, and with a writer always open a reader never sees
    // end-of-file, only the lines written for it.
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd_.is_open()) throw_system_error("open " + path.string());
}

std::string Gate::wait_then_exec(const fs::path& program) const {
    return "read line < '" + path_.string() + "'\nexec '" + program.string() + "' \"$@\"";
}

void Gate::open(int count) {
    std::string text;
    for (int i = 0; i < count; ++i) text += "go\n";
    write_all(fd_.get(), std::as_bytes(std::span(text)));
}

ino_t program_inode(pid_t pid) { return file_inode("/proc/" + std::to_string(pid) + "/exe"); }

ino_t file_inode(const fs::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;  // stat follows the link to the program
}

}  // namespace clusterkit::testing
