// Graph lifetime: dropping a graph frees every node in constant stack depth (chains of a million
// nodes, shared diamonds, many wide chains), on the main thread and on a thread with a 256 KB
// stack. With a recursive node destructor the million-node chain overflows the default 8 MB stack,
// and the chain and the wide graph of the 256 KB case overflow theirs.
#include <pthread.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {

Tensor scalar_leaf(double v) {
  Tensor t = from_vector(std::vector<double>{v}, {1}, kFloat64);
  t.set_requires_grad();
  return t;
}

// Runs fn on a new thread whose stack is `bytes`; returns the exception's message, or "" when fn
// returned. (std::thread cannot choose its stack size.)
std::string on_small_stack(std::size_t bytes, std::function<void()> fn) {
  struct Job {
    std::function<void()> fn;
    std::string error;
  } job{std::move(fn), {}};
  auto entry = [](void* p) -> void* {
    auto* j = static_cast<Job*>(p);
    try {
      j->fn();
    } catch (const std::exception& e) {
      j->error = e.what();
    }
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  REQUIRE(pthread_attr_setstacksize(&attr, bytes) == 0);
  pthread_t t;
  REQUIRE(pthread_create(&t, &attr, entry, &job) == 0);
  pthread_attr_destroy(&attr);
  REQUIRE(pthread_join(t, nullptr) == 0);
  return job.error;
}

// A chain of n negations of x; `first` and `last` observe its two ends.
Tensor chain(const Tensor& x, int n, std::weak_ptr<autograd::Node>& first, std::weak_ptr<autograd::Node>& last) {
  Tensor y = neg(x);
  first = y.grad_fn();
  for (int i = 1; i < n; ++i) y = neg(y);
  last = y.grad_fn();
  return y;
}

// Builds and drops a chain of a million nodes; throws when a node outlives the graph.
void million_chain() {
  Tensor x = scalar_leaf(2.0);
  std::weak_ptr<autograd::Node> first, last;
  {
    Tensor y = chain(x, 1000000, first, last);
    RETORT_CHECK(!first.expired() && !last.expired(), "chain: nodes missing while the graph lives");
    RETORT_CHECK(y.item<double>() == 2.0, "chain: an even number of negations changed the value");
  }
  RETORT_CHECK(first.expired() && last.expired(), "chain: nodes outlived the graph");
}

// Shared diamonds (each node owned by two consumers) and many chains joined at the end: dropped
// after a backward that freed the saved tensors, and again without one.
void wide_and_deep(bool run_backward) {
  Tensor x = scalar_leaf(1.0);
  std::weak_ptr<autograd::Node> root;
  {
    Tensor y = x;
    for (int i = 0; i < 30000; ++i) y = neg(y) + y * 2.0;  // −y + 2y = y
    std::vector<Tensor> wide{y};
    std::weak_ptr<autograd::Node> f, l;
    for (int c = 0; c < 20; ++c) wide.push_back(chain(x, 2500, f, l));  // each = x
    Tensor loss = sum(cat(wide, 0));
    root = loss.grad_fn();
    RETORT_CHECK(loss.item<double>() == 21.0, "wide_and_deep: loss ", loss.item<double>());
    if (run_backward) {
      loss.backward();
      RETORT_CHECK(x.grad().item<double>() == 21.0, "wide_and_deep: gradient ", x.grad().item<double>());
    }
  }
  RETORT_CHECK(root.expired(), "wide_and_deep: the graph outlived its tensors");
}

}  // namespace

TEST_CASE("a million-node chain is dropped without recursion", "[autograd]") {
  REQUIRE_NOTHROW(million_chain());
}

TEST_CASE("a wide and deep graph holding its saved tensors is dropped without recursion", "[autograd]") {
  REQUIRE_NOTHROW(wide_and_deep(false));
}

TEST_CASE("deep graphs are built, run backward and dropped on a 256 KB stack", "[autograd]") {
  constexpr std::size_t kStack = 256 * 1024;
  REQUIRE(on_small_stack(kStack, million_chain).empty());
  REQUIRE(on_small_stack(kStack, [] { wide_and_deep(true); }).empty());
  // A node's saved tensors can hold the only reference to a deep graph; releasing them after
  // backward drops it iteratively too.
  std::string err = on_small_stack(kStack, [] {
    Tensor x = scalar_leaf(3.0);
    std::weak_ptr<autograd::Node> first, last;
    Tensor y = chain(x, 50000, first, last);
    Tensor z = y * y;  // mul saves y; z's node holds the chain through its edges and its capture
    y = Tensor();
    sum(z).backward();
    RETORT_CHECK(x.grad().item<double>() == 6.0, "saved chain: gradient ", x.grad().item<double>());
    z = Tensor();
    RETORT_CHECK(first.expired(), "saved chain: nodes outlived the graph");
  });
  REQUIRE(err.empty());
}
