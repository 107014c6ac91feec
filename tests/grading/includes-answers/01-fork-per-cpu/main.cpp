// HOSTILE: the whole submission is the reference solution, #included from the kit by its path (anyone with a
// copy of the kit knows it; tests/grading/run writes the kit's path in place of @KIT@). A sandboxed build
// finds nothing there, and this program fails every test.
#if __has_include("@KIT@/solutions/01-fork-per-cpu/main.cpp")
#include "@KIT@/solutions/01-fork-per-cpu/main.cpp"
#elif __has_include("@KIT@/build/grading/control/bin/lesson01")
#error "hostile: read the answers: the control's build is in sight"
#else
int main() { return 3; }
#endif
