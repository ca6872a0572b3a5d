// The store contract, run against SQLite and against a real PostgreSQL (started from Debian's binaries by
// pg_server.h). Times are passed in, so lease expiry is tested without waiting.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <thread>

#include "batch/output_line.h"
#include "pg_server.h"
#include "store_fixtures.h"

namespace sluice::store {
namespace {

std::string temp_path(const std::string& name) { return testing::temp_db_path("store", name); }

std::unique_ptr<Store> open_kind(const std::string& kind, const std::string& name,
                                 std::string* conninfo = nullptr) {
  std::string error;
  if (kind == "sqlite") {
    auto s = open_sqlite_store(temp_path(name), error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  std::string why;
  auto* pg = testing::PgServer::get(&why);
  if (pg == nullptr) {
    ADD_FAILURE() << "PostgreSQL unavailable: " << why;
    return nullptr;
  }
  const std::string info = pg->fresh_database();
  if (conninfo) {
    *conninfo = info;
  }
  auto s = open_postgres_store(info, error);
  EXPECT_TRUE(s) << error;
  return s;
}

BatchRecord make_batch(std::string id, std::string owner, std::int64_t total) {
  BatchRecord b = testing::test_batch(std::move(id), std::move(owner), total, 100, (100 + 86400) * 1000);
  b.metadata_json = R"({"k":"v"})";
  return b;
}

std::vector<InputLine> make_lines(int n) {
  std::vector<InputLine> lines;
  for (int i = 0; i < n; ++i) {
    lines.push_back({static_cast<std::uint32_t>(i + 1), "req-" + std::to_string(i),
                     R"({"model":"deepseek-chat","messages":[]})"});
  }
  return lines;
}

LineOutcome success(const std::string& batch, std::int64_t idx, const std::string& custom_id) {
  LineOutcome o{batch, idx, custom_id, true};
  o.line_json = batch::response_line(batch, idx, custom_id, 200, "rid", R"({"ok":true})");
  o.status_code = 200;
  o.prompt_tokens = 3;
  return o;
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = open_kind(GetParam(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(store_);
  }
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, FilesBelongToTheirOwnerAndListNewestFirst) {
  std::string error;
  const std::string binary("a\0b\xff\n", 5);
  for (int i = 0; i < 3; ++i) {
    FileRecord f{"file-a" + std::to_string(i), "alice", "batch", "f.jsonl", 5, 1000 + i};
    ASSERT_TRUE(store_->put_file(f, binary, error)) << error;
  }
  ASSERT_TRUE(store_->put_file({"file-b0", "bob", "batch_output", "o.jsonl", 5, 2000}, binary, error));
  EXPECT_FALSE(
      store_->put_file({"file-b0", "bob", "batch", "dup", 5, 2000}, binary, error));  // ids are unique
  EXPECT_FALSE(store_->get_file("bob", "file-a0"));
  ASSERT_TRUE(store_->get_file("alice", "file-a0"));
  EXPECT_EQ(store_->get_file("alice", "file-a1")->created_at, 1001);
  EXPECT_EQ(store_->file_content("alice", "file-a2").value_or(""), binary);
  EXPECT_FALSE(store_->file_content("bob", "file-a2"));

  ListQuery q{"alice", "", 2};
  auto page = store_->list_files(q);
  ASSERT_EQ(page.size(), 3u);  // limit + 1: there is more
  EXPECT_EQ(page[0].id, "file-a2");
  EXPECT_EQ(page[1].id, "file-a1");
  q.after = "file-a1";
  page = store_->list_files(q);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, "file-a0");
  q = ListQuery{"alice", "", 10, true};
  page = store_->list_files(q);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].id, "file-a0");
  EXPECT_EQ(store_->list_files(ListQuery{"bob", "", 10, false, "batch"}).size(), 0u);
  EXPECT_EQ(store_->list_files(ListQuery{"bob", "", 10, false, "batch_output"}).size(), 1u);

  EXPECT_FALSE(store_->delete_file("bob", "file-a0"));
  EXPECT_TRUE(store_->delete_file("alice", "file-a0"));
  EXPECT_FALSE(store_->get_file("alice", "file-a0"));
  EXPECT_FALSE(store_->delete_file("alice", "file-a0"));
}

TEST_P(StoreContract, BatchesListAndCancel) {
  std::string error;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        store_->create_batch(make_batch("batch_" + std::to_string(i), "alice", 2), make_lines(2), error))
        << error;
  }
  auto b = store_->get_batch("alice", "batch_1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->metadata_json, R"({"k":"v"})");
  EXPECT_EQ(b->total, 2);
  EXPECT_EQ(b->completed, 0);
  EXPECT_EQ(b->deadline_ms, (100 + 86400) * 1000);
  EXPECT_FALSE(store_->get_batch("bob", "batch_1"));
  auto page = store_->list_batches(ListQuery{"alice", "batch_2", 1});
  ASSERT_EQ(page.size(), 2u);  // after batch_2 (newest): batch_1, and one more
  EXPECT_EQ(page[0].id, "batch_1");
  EXPECT_FALSE(store_->request_cancel("bob", "batch_0", 500));
  auto c = store_->request_cancel("alice", "batch_0", 500);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, "cancelling");
  EXPECT_EQ(c->at.cancelling, 500);
  EXPECT_EQ(store_->active_batches().size(), 3u);
  // Duplicate custom_ids within a batch are refused as a whole.
  auto dup = make_lines(2);
  dup[1].custom_id = dup[0].custom_id;
  EXPECT_FALSE(store_->create_batch(make_batch("batch_dup", "alice", 2), dup, error));
  EXPECT_FALSE(store_->get_batch("alice", "batch_dup"));
}

TEST_P(StoreContract, ClaimsAreLeasedAndExpire) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_l", "k", 5), make_lines(5), error));
  auto a = store_->claim_lines("batch_l", "A", 1000, 500, 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].idx, 0);
  EXPECT_EQ(a[1].custom_id, "req-1");
  auto b = store_->claim_lines("batch_l", "B", 1200, 500, 10);
  ASSERT_EQ(b.size(), 3u);  // not A's leased lines
  EXPECT_EQ(b[0].idx, 2);
  EXPECT_TRUE(store_->claim_lines("batch_l", "C", 1400, 500, 10).empty());
  auto counts = store_->line_counts("batch_l", 1400);
  EXPECT_EQ(counts.leased, 5);
  EXPECT_EQ(counts.remaining(), 5);
  // A renews one of its two; at 1600 the other one's lease (until 1500) has expired and C takes it.
  EXPECT_EQ(store_->renew_leases("A", {{"batch_l", 0}}, 2000), 1u);
  EXPECT_EQ(store_->renew_leases("C", {{"batch_l", 0}}, 2000), 0u);
  auto c = store_->claim_lines("batch_l", "C", 1600, 500, 10);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].idx, 1);
  EXPECT_EQ(store_->renew_leases("A", {{"batch_l", 1}}, 3000), 0u);  // lost it
}

TEST_P(StoreContract, ResultsAreWrittenOncePerCustomId) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_r", "k", 3), make_lines(3), error));
  store_->claim_lines("batch_r", "A", 1000, 500, 3);
  EXPECT_TRUE(store_->complete_line(success("batch_r", 0, "req-0")));
  EXPECT_FALSE(store_->complete_line(success("batch_r", 0, "req-0")));  // a second replica's late result
  auto counts = store_->line_counts("batch_r", 1000);
  EXPECT_EQ(counts.done, 1);
  EXPECT_EQ(counts.succeeded, 1);
  EXPECT_EQ(counts.leased, 2);
  EXPECT_EQ(store_->batch_usage("batch_r").prompt_tokens, 3);  // the duplicate is not counted
  auto b = store_->get_batch("k", "batch_r");
  EXPECT_EQ(b->completed, 1);
  EXPECT_EQ(b->failed, 0);
  // A done line is never claimed again, even after its lease time.
  auto again = store_->claim_lines("batch_r", "B", 5000, 500, 3);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].idx, 1);
}

TEST_P(StoreContract, RetryHoldsTheLineBack) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_t", "k", 1), make_lines(1), error));
  ASSERT_EQ(store_->claim_lines("batch_t", "A", 1000, 500, 1).size(), 1u);
  EXPECT_FALSE(store_->retry_line("batch_t", 0, "B", 3000));  // not B's lease
  EXPECT_TRUE(store_->retry_line("batch_t", 0, "A", 3000));
  EXPECT_EQ(store_->line_counts("batch_t", 1100).waiting, 1);
  EXPECT_TRUE(store_->claim_lines("batch_t", "B", 2999, 500, 1).empty());
  auto c = store_->claim_lines("batch_t", "B", 3000, 500, 1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].attempts, 1);
}

TEST_P(StoreContract, FinalizeWritesOutputAndErrorFilesOnce) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_f", "k", 5), make_lines(5), error));
  store_->claim_lines("batch_f", "A", 1000, 500, 5);
  ASSERT_TRUE(store_->complete_line(success("batch_f", 3, "req-3")));
  ASSERT_TRUE(store_->complete_line(success("batch_f", 0, "req-0")));
  LineOutcome bad{"batch_f", 1, "req-1", false};
  bad.status_code = 400;
  bad.line_json = batch::response_line("batch_f", 1, "req-1", 400, "rid", R"({"error":{"message":"no"}})");
  ASSERT_TRUE(store_->complete_line(bad));

  auto taken = store_->begin_finalizing("batch_f", "A", "expired", 1000, 500, 99);
  ASSERT_EQ(taken.value_or(""), "expired");
  EXPECT_FALSE(store_->begin_finalizing("batch_f", "B", "completed", 1200, 500, 99));  // A holds it
  Finalization f{"batch_f", "expired", 777, 1300, "A"};
  f.unfinished_line = [](std::int64_t idx, std::string_view custom_id) {
    return batch::error_line("batch_f", idx, custom_id, "batch_expired", "window ended");
  };
  ASSERT_TRUE(store_->finalize(f));
  EXPECT_FALSE(store_->finalize(f));  // final already
  auto b = store_->get_batch("k", "batch_f");
  EXPECT_EQ(b->status, "expired");
  EXPECT_EQ(b->at.expired, 777);
  EXPECT_EQ(b->completed, 2);
  EXPECT_EQ(b->failed, 3);
  EXPECT_EQ(b->output_file_id, "file-f-output");
  EXPECT_EQ(b->error_file_id, "file-f-errors");
  const std::string out = store_->file_content("k", b->output_file_id).value_or("");
  EXPECT_EQ(out, batch::response_line("batch_f", 0, "req-0", 200, "rid", R"({"ok":true})") + "\n" +
                     batch::response_line("batch_f", 3, "req-3", 200, "rid", R"({"ok":true})") + "\n");
  const std::string err = store_->file_content("k", b->error_file_id).value_or("");
  EXPECT_EQ(err, bad.line_json + "\n" +
                     batch::error_line("batch_f", 2, "req-2", "batch_expired", "window ended") + "\n" +
                     batch::error_line("batch_f", 4, "req-4", "batch_expired", "window ended") + "\n");
  auto meta = store_->get_file("k", b->output_file_id);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->purpose, "batch_output");
  EXPECT_EQ(meta->bytes, static_cast<std::int64_t>(out.size()));
  EXPECT_TRUE(store_->active_batches().empty());
}

TEST_P(StoreContract, AnExpiredFinalizationIsTakenOverWithItsStatus) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_o", "k", 1), make_lines(1), error));
  ASSERT_EQ(store_->begin_finalizing("batch_o", "A", "cancelled", 1000, 500, 9).value_or(""), "cancelled");
  EXPECT_EQ(store_->get_batch("k", "batch_o")->status, "in_progress");  // only `completed` shows finalizing
  ASSERT_EQ(store_->begin_finalizing("batch_o", "B", "completed", 1600, 500, 9).value_or(""), "cancelled");
  auto c = store_->begin_finalizing("batch_q", "B", "completed", 1600, 500, 9);
  EXPECT_FALSE(c);  // no such batch
  ASSERT_TRUE(store_->create_batch(make_batch("batch_c", "k", 0), {}, error));
  ASSERT_EQ(store_->begin_finalizing("batch_c", "A", "completed", 1000, 500, 9).value_or(""), "completed");
  auto b = store_->get_batch("k", "batch_c");
  EXPECT_EQ(b->status, "finalizing");
  EXPECT_EQ(b->at.finalizing, 9);
  ASSERT_TRUE(store_->finalize({"batch_c", "completed", 10, 1000, "A"}));
  b = store_->get_batch("k", "batch_c");
  EXPECT_EQ(b->status, "completed");
  EXPECT_EQ(b->output_file_id, "");  // nothing to write: no files
}

LineOutcome ledgered(const std::string& batch, std::int64_t idx) {
  LineOutcome o = success(batch, idx, "req-" + std::to_string(idx));
  o.completion_tokens = 5;
  o.cache_hit_tokens = 1;
  o.cache_miss_tokens = 2;
  o.reasoning_tokens = 4;
  o.ledger = LedgerEntry{"k", "deepseek-chat", "ds", "deepseek-v3", 200, 0.25 * double(idx + 1), 7'000 + idx,
                         idx == 2 ? "cache" : "upstream"};  // a line answered from the response cache
  return o;
}

// The ledger feed's outbox: a result that reached an upstream waits with its ledger row until marked; a
// taken line is held (not taken again) until the hold ends; results without a ledger row never wait.
TEST_P(StoreContract, ResultsWaitForTheLedgerUntilMarked) {
  std::string error;
  ASSERT_TRUE(store_->create_batch(make_batch("batch_u", "k", 5), make_lines(5), error));
  store_->claim_lines("batch_u", "A", 1000, 500, 5);
  for (std::int64_t i : {0, 1, 2}) {
    ASSERT_TRUE(store_->complete_line(ledgered("batch_u", i)));
  }
  EXPECT_FALSE(store_->complete_line(ledgered("batch_u", 1)));  // a duplicate adds no second ledger row
  ASSERT_TRUE(store_->complete_line(success("batch_u", 3, "req-3")));  // no upstream request: nothing to feed
  auto first = store_->unledgered_lines(1000, 5000, 2);
  EXPECT_EQ(first.pending, 3);
  ASSERT_EQ(first.lines.size(), 2u);
  auto second = store_->unledgered_lines(1000, 5000, 10);  // the other replica's round: the third only
  EXPECT_EQ(second.pending, 3);
  ASSERT_EQ(second.lines.size(), 1u);
  std::set<std::int64_t> idx;
  for (const auto& l : {first.lines[0], first.lines[1], second.lines[0]}) {
    idx.insert(l.idx);
  }
  EXPECT_EQ(idx, (std::set<std::int64_t>{0, 1, 2}));
  const UnledgeredLine& l = second.lines[0];
  const LineOutcome want = ledgered("batch_u", l.idx);
  EXPECT_EQ(l.batch_id, "batch_u");
  EXPECT_EQ(l.entry.key, "k");
  EXPECT_EQ(l.entry.model, "deepseek-chat");
  EXPECT_EQ(l.entry.upstream, "ds");
  EXPECT_EQ(l.entry.upstream_model, "deepseek-v3");
  EXPECT_EQ(l.entry.status, 200);
  EXPECT_DOUBLE_EQ(l.entry.cost_usd, want.ledger->cost_usd);
  EXPECT_EQ(l.entry.unix_ms, want.ledger->unix_ms);
  EXPECT_EQ(l.entry.source, want.ledger->source);
  EXPECT_EQ(std::vector<std::int64_t>({l.prompt_tokens, l.completion_tokens, l.cache_hit_tokens,
                                       l.cache_miss_tokens, l.reasoning_tokens}),
            std::vector<std::int64_t>({3, 5, 1, 2, 4}));
  EXPECT_TRUE(store_->unledgered_lines(5999, 5000, 10).lines.empty());  // all held until 6000
  ASSERT_TRUE(store_->mark_ledgered({{"batch_u", first.lines[0].idx}, {"batch_u", first.lines[1].idx}}));
  auto later = store_->unledgered_lines(6000, 5000, 10);  // the hold ended unmarked: taken again
  EXPECT_EQ(later.pending, 1);
  ASSERT_EQ(later.lines.size(), 1u);
  EXPECT_EQ(later.lines[0].idx, l.idx);
  ASSERT_TRUE(store_->mark_ledgered({{"batch_u", l.idx}}));
  // Finalizing writes error results for unrun lines: nothing for the ledger.
  ASSERT_TRUE(store_->begin_finalizing("batch_u", "A", "expired", 7000, 500, 7));
  Finalization f{"batch_u", "expired", 7, 7000, "A"};
  f.unfinished_line = [](std::int64_t i, std::string_view cid) {
    return batch::error_line("batch_u", i, cid, "batch_expired", "window ended");
  };
  ASSERT_TRUE(store_->finalize(f));
  auto none = store_->unledgered_lines(20'000, 5000, 10);
  EXPECT_EQ(none.pending, 0);
  EXPECT_TRUE(none.lines.empty());
  EXPECT_TRUE(store_->mark_ledgered({}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(SqliteStore, ReleaseAllLeasesFreesLinesOfADeadProcess) {
  std::string error;
  const std::string path = temp_path("release");
  {
    auto s = open_sqlite_store(path, error);
    ASSERT_TRUE(s) << error;
    ASSERT_TRUE(s->create_batch(make_batch("batch_x", "k", 2), make_lines(2), error));
    ASSERT_EQ(s->claim_lines("batch_x", "dead", 1000, 60'000, 2).size(), 2u);
  }
  auto s = open_sqlite_store(path, error);  // a restart: the file kept the leases
  EXPECT_TRUE(s->claim_lines("batch_x", "new", 2000, 60'000, 2).empty());
  s->release_all_leases();
  EXPECT_EQ(s->claim_lines("batch_x", "new", 2000, 60'000, 2).size(), 2u);
}

// A database made before the ledger columns: opening it adds them; its results were counted in the ledger
// when they ran (directly), so they are not fed again; new results are.
TEST(SqliteStore, AnOlderDatabaseGainsTheLedgerColumns) {
  const std::string path = temp_path("before-ledger");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   "CREATE TABLE batch_results(batch_id TEXT NOT NULL, custom_id TEXT NOT NULL, idx INTEGER "
                   "NOT NULL, success INTEGER NOT NULL, line TEXT NOT NULL, status_code INTEGER NOT NULL, "
                   "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cache_hit_tokens "
                   "INTEGER NOT NULL, cache_miss_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, "
                   "cost_usd REAL NOT NULL, full_cost_usd REAL NOT NULL, finished_ms INTEGER NOT NULL, "
                   "PRIMARY KEY(batch_id, custom_id));"
                   "INSERT INTO batch_results VALUES ('batch_old', 'req-0', 0, 1, '{}', 200, 1, 1, 0, 1, 0, "
                   "0.1, 0.1, 5);",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  for (int open = 0; open < 2; ++open) {  // the second open finds the columns there
    auto s = open_sqlite_store(path, error);
    ASSERT_TRUE(s) << error;
    EXPECT_EQ(s->unledgered_lines(1000, 5000, 10).pending, open);
    if (open == 0) {
      ASSERT_TRUE(s->create_batch(make_batch("batch_new", "k", 1), make_lines(1), error)) << error;
      ASSERT_TRUE(s->complete_line(ledgered("batch_new", 0)));
    }
  }
}

TEST(SqliteStore, WritesAreCommittedForOtherConnections) {
  std::string error;
  const std::string path = temp_path("visible");
  auto s = open_sqlite_store(path, error);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_file({"file-v", "k", "batch", "v.jsonl", 1, 1}, "x", error));
  ASSERT_TRUE(s->create_batch(make_batch("batch_v", "k", 1), make_lines(1), error));
  s->list_files(ListQuery{"k"});
  s->active_batches();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM batch_files), (SELECT count(*) FROM batch_lines)", -1,
                     &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  EXPECT_EQ(sqlite3_column_int(st, 1), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(PostgresStore, ReplicasClaimDisjointLines) {
  std::string conninfo;
  auto first = open_kind("postgres", "disjoint", &conninfo);
  ASSERT_TRUE(first);
  std::string error;
  constexpr int kLines = 400;
  ASSERT_TRUE(first->create_batch(make_batch("batch_d", "k", kLines), make_lines(kLines), error)) << error;
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < 4; ++i) {
    replicas.push_back(open_postgres_store(conninfo, error));
    ASSERT_TRUE(replicas.back()) << error;
  }
  std::vector<std::vector<std::int64_t>> got(replicas.size());
  std::vector<std::thread> threads;
  for (std::size_t r = 0; r < replicas.size(); ++r) {
    threads.emplace_back([&, r] {
      for (;;) {
        auto c = replicas[r]->claim_lines("batch_d", "R" + std::to_string(r), 1000, 60'000, 7);
        if (c.empty()) {
          return;
        }
        for (auto& l : c) {
          got[r].push_back(l.idx);
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::int64_t> all;
  std::size_t total = 0;
  for (const auto& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kLines));  // nobody claimed a line twice
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kLines));
  std::size_t busy = 0;
  for (const auto& g : got) {
    busy += g.empty() ? 0 : 1;
  }
  EXPECT_GE(busy, 2u);  // they really ran side by side
}

}  // namespace
}  // namespace sluice::store
