// Hostile submission: an infinite loop. It spins on the CPU and never prints or ends; each test gives up
// at its deadline and the sandbox kills it (RLIMIT_CPU and the wall-clock deadline are the backstops).
int main() {
    for (volatile unsigned long spin = 0;; spin = spin + 1) {
    }
}
