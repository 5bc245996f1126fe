// apigw_store_bench: puts and deletes per second on the store, shaped like the emulator's
// connection churn ($connect puts one item, $disconnect deletes it). Not a test; run by hand:
//   apigw_store_bench [--path FILE|:memory:] [--count N] [--threads T]
// Without --path it uses a fresh file in the temporary directory and removes it afterwards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <unistd.h>

#include "store/session_store.hpp"

namespace {

namespace rj = rapidjson;
using clock_type = std::chrono::steady_clock;
using apigw::dynamo_result;
using apigw::store::session_store;

// Builds the request a lab's $connect handler sends: the connection id plus a few attributes.
void put_request(rj::Document& d, const std::string& id) {
  d.SetObject();
  auto& a = d.GetAllocator();
  rj::Value item(rj::kObjectType);
  rj::Value v(rj::kObjectType);
  v.AddMember("S", rj::Value(id.c_str(), a), a);
  item.AddMember("connectionId", v, a);
  rj::Value t(rj::kObjectType);
  t.AddMember("N", "1700000000000", a);
  item.AddMember("connectedAt", t, a);
  rj::Value n(rj::kObjectType);
  n.AddMember("S", "anonymous", a);
  item.AddMember("nickname", n, a);
  d.AddMember("TableName", "simplechat_connections", a);
  d.AddMember("Item", item, a);
}

void delete_request(rj::Document& d, const std::string& id) {
  d.SetObject();
  auto& a = d.GetAllocator();
  rj::Value key(rj::kObjectType);
  rj::Value v(rj::kObjectType);
  v.AddMember("S", rj::Value(id.c_str(), a), a);
  key.AddMember("connectionId", v, a);
  d.AddMember("TableName", "simplechat_connections", a);
  d.AddMember("Key", key, a);
}

std::string id_of(int thread, int i) { return "c" + std::to_string(thread) + "-" + std::to_string(i) + "-AbCdEfGhIjK="; }

bool check(const dynamo_result& r) {
  if (r.ok()) return true;
  std::cerr << r.error().type << ": " << r.error().message << '\n';
  return false;
}

double per_second(int ops, clock_type::duration d) {
  return ops / std::chrono::duration<double>(d).count();
}

// T threads; each puts COUNT/T items, then deletes them. Returns false on any error.
bool run_phase(session_store& store, int count, int threads, bool pairs) {
  const int each = count / threads;
  std::vector<std::thread> workers;
  std::atomic<bool> ok{true};
  clock_type::duration put_time{}, delete_time{};
  std::mutex time_mutex;
  auto start = clock_type::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      rj::Document d;
      clock_type::duration puts{}, deletes{};
      if (pairs) {
        // $connect then $disconnect for one connection after the other.
        for (int i = 0; i < each && ok; ++i) {
          auto t0 = clock_type::now();
          put_request(d, id_of(t, i));
          if (!check(store.put_item(d))) ok = false;
          auto t1 = clock_type::now();
          delete_request(d, id_of(t, i));
          if (!check(store.delete_item(d))) ok = false;
          puts += t1 - t0;
          deletes += clock_type::now() - t1;
        }
      } else {
        auto t0 = clock_type::now();
        for (int i = 0; i < each && ok; ++i) {
          put_request(d, id_of(t, i));
          if (!check(store.put_item(d))) ok = false;
        }
        auto t1 = clock_type::now();
        for (int i = 0; i < each && ok; ++i) {
          delete_request(d, id_of(t, i));
          if (!check(store.delete_item(d))) ok = false;
        }
        puts = t1 - t0;
        deletes = clock_type::now() - t1;
      }
      std::lock_guard lock(time_mutex);
      put_time = std::max(put_time, puts);
      delete_time = std::max(delete_time, deletes);
    });
  }
  for (auto& w : workers) w.join();
  auto total = clock_type::now() - start;
  const int ops = each * threads;
  // Puts/s and deletes/s divide by the (longest thread's) time spent in that kind of call.
  std::printf("  %-26s threads=%-2d puts/s=%9.0f  deletes/s=%9.0f  put+delete pairs/s=%9.0f\n",
              pairs ? "interleaved put, delete" : "all puts, then all deletes", threads,
              per_second(ops, put_time), per_second(ops, delete_time), per_second(ops, total));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int count = 20000;
  int max_threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--path") path = argv[i + 1];
    else if (flag == "--count") count = std::stoi(argv[i + 1]);
    else if (flag == "--threads") max_threads = std::stoi(argv[i + 1]);
    else {
      std::cerr << "usage: apigw_store_bench [--path FILE|:memory:] [--count N] [--threads T]\n";
      return 2;
    }
  }
  bool temporary = path.empty();
  if (temporary) {
    path = (std::filesystem::temp_directory_path() / ("apigw_store_bench_" + std::to_string(getpid()) + ".db")).string();
  }

  rj::Document schema_json;
  schema_json.Parse(R"({"TableName": "simplechat_connections",
      "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}]})");
  auto schema = apigw::store::parse_table_schema(schema_json, "bench");
  auto opened = session_store::open({path, std::chrono::seconds(5)}, {*schema});
  if (!opened) {
    std::cerr << opened.error() << '\n';
    return 1;
  }
  auto& store = **opened;
  std::printf("store %s, %d operations of each kind per run\n", path.c_str(), count);
  bool ok = true;
  for (int threads = 1; threads <= max_threads && ok; threads *= 2) {
    ok = run_phase(store, count, threads, false) && run_phase(store, count, threads, true);
  }
  if (temporary) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  return ok ? 0 : 1;
}
