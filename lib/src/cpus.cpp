// How many CPUs this process may use. See cpus.hpp.
#include "clusterkit/cpus.hpp"

#include "clusterkit/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sched.h>
#include <string>

namespace clusterkit {
namespace {

int affinity_cpu_count() {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (::sched_getaffinity(0, sizeof cpus, &cpus) != 0) throw_system_error("sched_getaffinity");
    return CPU_COUNT(&cpus);
}

// cgroup v2's cpu.max is "max 100000" (no quota) or "QUOTA PERIOD": QUOTA/PERIOD CPUs' worth of time.
// Returns 0 when there is no quota or no cgroup v2 to read.
int cgroup_quota_cpu_count() {
    std::ifstream cpu_max("/sys/fs/cgroup/cpu.max");
    std::string quota;
    double period = 0;
    if (!(cpu_max >> quota >> period) || quota == "max" || period <= 0) return 0;
    return static_cast<int>(std::ceil(std::stod(quota) / period));
}

}  // namespace

int usable_cpu_count() {
    int count = affinity_cpu_count();
    if (const int quota = cgroup_quota_cpu_count(); quota > 0) count = std::min(count, quota);
    return std::max(1, count);
}

}  // namespace clusterkit
