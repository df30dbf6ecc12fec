// Placeholder until the CLI lands (runner/experiment).
int main() { return 0; }
