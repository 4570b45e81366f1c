// Shapes and strides (in elements, not bytes). A shape is a list of sizes, outermost first;
// a tensor of shape [N, C, H, W] that is contiguous has strides [C·H·W, H·W, W, 1].
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace retort {

using Shape = std::vector<std::int64_t>;

std::int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "[2,3,4]"

// Wraps a possibly negative dim into [0, ndim); op names the caller for the error.
int wrap_dim(std::int64_t dim, std::int64_t ndim, const char* op);

// NumPy broadcasting of two shapes; throws naming op and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace retort
