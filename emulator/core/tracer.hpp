// The routing trace: every event (connect, message, disconnect) with its routing decision,
// printed as text or JSON lines, kept (the last 1,000) for /@emulator/trace, pushed to live
// subscribers (the dashboard's feed), and rendered into the stage's access log when it has one.
// Secrets in a record's free-text fields (error, close reason, selection) are masked before it
// goes anywhere (emulator/redaction.hpp).
// Thread-safety: every member may be called from any thread; subscribers are called outside the
// lock, on the thread that recorded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "emulator/core/access_log.hpp"
#include "emulator/core/batched_writer.hpp"
#include "emulator/core/trace_record.hpp"

namespace apigw::emulator {

class tracer {
 public:
  enum class format { text, json };

  struct options {
    std::ostream* trace_out = nullptr;  // where the trace is printed; null: not printed
    // Or: a writer shared with the functions' log streams, so that one event's lines come out in
    // the order they happened (the function's START … REPORT, then the event's trace line).
    batched_writer* trace_writer = nullptr;
    format trace_format = format::text;
    std::optional<access_log_format> access_format;
    std::ostream* access_out = nullptr;  // REQUIRES: set when access_format is
    access_log_format::api_context api;
    std::size_t keep = 1000;
  };

  explicit tracer(options o);

  // Takes R: prints it when the trace or an access log is printed, keeps it (the last
  // options.keep) and hands it, as JSON, to the subscribers, if any. Nothing is serialized that
  // nobody reads: the kept records become JSON when last() asks for them.
  void record(trace_record&& r);

  // The last N records as JSON, oldest first.
  std::vector<std::string> last(std::size_t n) const;

  using subscriber = std::function<void(const std::string& json)>;
  std::uint64_t subscribe(subscriber s);
  void unsubscribe(std::uint64_t id);

  static std::string to_json(const trace_record& r);
  static std::string to_text(const trace_record& r);

 private:
  options options_;
  std::unique_ptr<batched_writer> own_trace_writer_;
  batched_writer* trace_writer_ = nullptr;
  std::unique_ptr<batched_writer> access_writer_;
  mutable std::mutex mutex_;
  // The last options_.keep records, a ring: kept_[next_ % keep] is the oldest once it is full.
  std::vector<trace_record> kept_;                  // guarded by mutex_
  std::uint64_t next_ = 0;                          // guarded by mutex_: records taken so far
  std::map<std::uint64_t, subscriber> subscribers_;  // guarded by mutex_
  std::uint64_t next_subscriber_ = 1;               // guarded by mutex_
};

}  // namespace apigw::emulator
