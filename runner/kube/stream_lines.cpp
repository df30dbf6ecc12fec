// Client::stream_lines: a GET whose body is read line by line as it arrives
// (a pod's log followed through the API server, issue 13's vantage pods).
#include "runner/kube/client.h"
#include "runner/kube/client_state.h"
#include "runner/kube/status.h"

namespace faultline::kube {

bool Client::stream_lines(const std::string& path, const std::string& resource,
                          const std::string& name,
                          const std::function<bool(std::string_view line)>& on_line,
                          std::stop_token stop) {
  std::stop_source stream_stop;
  std::stop_callback link(stop, [&] { stream_stop.request_stop(); });
  std::string buffer;
  std::exception_ptr caller_error;
  auto on_data = [&](std::string_view chunk) {
    if (stream_stop.stop_requested()) return;
    buffer.append(chunk);
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      try {
        if (!on_line(std::string_view(buffer.data() + start, nl - start))) {
          stream_stop.request_stop();
          start = nl + 1;
          break;
        }
      } catch (...) {
        caller_error = std::current_exception();
        stream_stop.request_stop();
        start = nl + 1;
        break;
      }
    }
    buffer.erase(0, start);
  };
  try {
    HttpRequest req = state_->prepare("GET", path, "", "", std::chrono::milliseconds(0));
    req.headers["Accept"] = "*/*";
    state_->limiter.acquire(stop);
    HttpResponse resp = transport_->stream(req, on_data, stream_stop.get_token());
    if (caller_error) std::rethrow_exception(caller_error);
    if (resp.status < 200 || resp.status >= 300) throw status_error(resp, "get", resource, name);
    return !resp.truncated;
  } catch (const ApiError& e) {
    throw state_->contextualize(e, "get", resource, name);
  }
}

}  // namespace faultline::kube
