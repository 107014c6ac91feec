// Hostile submission: a segmentation fault on start. Every test fails; nothing is left behind.
int main() {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
    return 0;
}
