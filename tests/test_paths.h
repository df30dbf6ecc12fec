// Paths a test executable was built with: the checkout, and for the e2e
// tests the faultline binary and their cluster's state dir. They are defined
// in a TU generated per executable (tests/CMakeLists.txt,
// faultline_test_paths), not passed as -D flags: a path on the compile command
// line made every test object differ between two clones, so a fresh clone
// (CI's) recompiled every test with a cold ccache. A test that asks for a path
// its executable was not given fails to link.
#pragma once

namespace faultline::test_paths {

const char* source_dir();        // the checkout's top folder
const char* faultline_binary();  // the CLI built alongside (e2e)
const char* cluster_state();     // the fixture cluster's state dir (e2e)
const char* dr_state();          // the two DR clusters' state dir (tests/e2e/dr)
const char* artifact_dir();      // where report tests leave what they render
const char* recorded_dir();      // tests/bench/rss/recorded

}  // namespace faultline::test_paths
