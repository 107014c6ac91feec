// Hostile submission: closes its stdout first, then sleeps a little and exits 0. The tests read end-of-file
// at once and see no line at all.
#include <unistd.h>

int main() {
    ::close(STDOUT_FILENO);
    ::usleep(100 * 1000);
    return 0;
}
