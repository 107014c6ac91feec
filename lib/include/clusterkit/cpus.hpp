// How many workers to start by default: the CPUs this process may use (lesson 01's answer, provided from
// lesson 02 on).
#pragma once

namespace clusterkit {

// The CPUs in this process's affinity mask (sched_getaffinity, what `taskset` restricts), capped by a
// cgroup v2 CPU quota (cpu.max, what a container's --cpus sets), and at least 1: how libuv counts
// Node's os.availableParallelism().
int usable_cpu_count();

}  // namespace clusterkit
