// Nothing to compile: this file only gives the clusterkit_pch target a source, so that the precompiled
// header (see clusterkit_add_pch in ClusterKit.cmake) is built once and every lesson program reuses it.
