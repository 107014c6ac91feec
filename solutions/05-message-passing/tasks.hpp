// Lesson 05: the work itself, shared by the primary and the worker: task J counts the primes in a range, and
// in echo mode carries a payload whose bytes both sides can predict. Nothing here is about processes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace lesson05 {

// Task J (1, 2, ...) of size S covers the numbers [(J-1)*S, J*S).
struct Range {
    std::int64_t from = 0;
    std::int64_t to = 0;
};

inline Range task_range(int task, std::int64_t task_size) {
    return {(task - 1) * task_size, task * task_size};
}

// Counts the primes in [from, to) by trial division: slow on purpose, so that there is work to share.
inline std::int64_t count_primes(std::int64_t from, std::int64_t to) {
    std::int64_t count = 0;
    for (std::int64_t n = from < 2 ? 2 : from; n < to; ++n) {
        bool prime = n == 2 || n % 2 != 0;
        for (std::int64_t d = 3; prime && d * d <= n; d += 2) prime = n % d != 0;
        count += prime ? 1 : 0;
    }
    return count;
}

// The payload of task J in echo mode: byte i is 'a' + (i + J) % 26. Letters only, so JSON needs no escapes.
inline std::string payload_for(int task, std::size_t bytes) {
    std::string payload(bytes, 'a');
    for (std::size_t i = 0; i < bytes; ++i) payload[i] = static_cast<char>('a' + (i + static_cast<std::size_t>(task)) % 26);
    return payload;
}

// FNV-1a, 64 bits, as 16 hex digits: what the primary prints about a payload it received.
inline std::string checksum(std::string_view bytes) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char byte : bytes) {
        hash ^= static_cast<unsigned char>(byte);
        hash *= 1099511628211ULL;
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

}  // namespace lesson05
