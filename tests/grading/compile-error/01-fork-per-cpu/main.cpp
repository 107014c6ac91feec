// Hostile submission: it does not compile. Lesson 01 gets 0 points with the compiler's first error in the
// report, and grading goes on with the next submission.
#include <cstdio>

int main() {
    std::printf("almost\n")
    return 0;
}
