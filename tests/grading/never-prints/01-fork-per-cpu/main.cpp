// Hostile submission: a program that never prints and never ends (it sleeps). Each test waits for its
// first line until the deadline.
#include <unistd.h>

int main() {
    for (;;) ::pause();
}
