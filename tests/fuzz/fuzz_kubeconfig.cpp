// libFuzzer: the kubeconfig loader. The input is written as a kubeconfig
// file and loaded; it must load or throw InputError, nothing else.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "runner/common/error.h"
#include "runner/kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/faultline-fuzz-kubeconfig-" + std::to_string(::getpid());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    (void)faultline::kube::load_kubeconfig({path}, "");
  } catch (const faultline::InputError&) {
  }
  return 0;
}
