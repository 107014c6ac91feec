// A lesson's hints, lessons/NN-name/hints.md: one ladder per TODO, from a nudge to the shape of the code.
//
//     # Lesson 01 hints            (title and any text before the first "## ": not shown by kit hint)
//     ## usable_cpu_count()        (one section per TODO; its first word is the TODO's key)
//     ### Hint 1                   (one rung each, gentle first)
//     ...
//
// A section's key is its heading's first word without backticks, a trailing ':', "()" or ".cpp":
// "## `Supervisor::watch()`" is "Supervisor::watch", "## copies.cpp: the worker's loop" is "copies". A key that
// comes again gets "#2", "#3" (an old file's "## Hint 1", "## Hint 2" then still work, one rung each).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace clusterkit::kit {

struct HintLadder {
    std::string heading;             // the section's heading, as written
    std::string key;                 // what `kit hint NN KEY` names it by
    std::vector<std::string> rungs;  // each rung's text, without the blank lines around it
};

// Every ladder of a hints file, in order. Headings inside ``` code blocks are text, not headings.
std::vector<HintLadder> parse_hints(std::string_view markdown);

// The ladder `which` names: its key (case-insensitive), the part of the key after the last "::", or else a
// part of exactly one heading. Throws UsageError, listing the keys, when none or several match.
const HintLadder& find_ladder(const std::vector<HintLadder>& ladders, std::string_view which);

}  // namespace clusterkit::kit
