// Stands in for ankerl::unordered_dense (a header-only hash map library that
// mediasoup >= 3.20.1 uses and Debian bookworm does not package) when the
// mediasoup worker is built by scripts/worker-build.js.
//
// mediasoup uses three names from it: `map`, `set` and `hash`, and only through
// the operations the standard unordered containers have with the same meaning
// (find, emplace, try_emplace, insert, erase, contains, at, operator[], size,
// iteration). The standard containers give stronger guarantees than
// unordered_dense does (erase keeps other elements' iterators and references
// valid; unordered_dense moves the last element into the hole), so code written
// for unordered_dense stays correct on them. What changes is speed and the
// order of iteration, which unordered_dense does not promise either once an
// element has been erased.
//
// `hash` is a class template of its own (not an alias of std::hash) so that a
// specialisation written for unordered_dense still declares a valid type here.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	template<class T, class Enable = void>
	struct hash : std::hash<T>
	{
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>, class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense
