# ClusterKit's container, for every machine that is not Debian 12, Debian 13 or Ubuntu 24.04 (macOS, Windows,
# another distribution): Debian 13 with the packages of tools/deps/packages.tsv, installed by tools/deps/install,
# the same script that CI runs inside its Debian 13 root filesystem (.ci/debian13). Nothing else is downloaded.
#
#   docker build -t clusterkit .
#   docker run --rm -it -v "$PWD":/workspaces/clusterkit clusterkit ./kit verify
#
# VS Code and Codespaces open it through .devcontainer/devcontainer.json. README.md, "Any other machine".
FROM debian:trixie

COPY tools/deps/ /tmp/clusterkit-deps/
RUN /tmp/clusterkit-deps/install \
 && rm -rf /tmp/clusterkit-deps /var/lib/apt/lists/*

# A user of their own (uid 1000, as on most desktops, so files written into a mounted checkout stay yours),
# and git trusting the checkout mounted here whoever owns it (./kit list and reset read it with git).
RUN useradd --create-home --uid 1000 --shell /bin/bash student \
 && git config --system --add safe.directory /workspaces/clusterkit
USER student
WORKDIR /workspaces/clusterkit
CMD ["bash"]
