// A document path: where an attribute is in an item, as expressions name it. A top-level
// attribute, then map keys and list indexes: `a.b[2].c` is [a, b, [2], c]. Reading, writing and
// removing at a path, reducing an item to some paths (ProjectionExpression, ReturnValues
// UPDATED_*), and DynamoDB's rule that the paths of one expression may not overlap.
// Items here are DynamoDB JSON: an object of attribute names to AttributeValues ({"M": {...}},
// {"L": [...]}, ...).
// Thread-safety: plain values and free functions.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace apigw::store {

struct path_step {
  static constexpr std::size_t not_an_index = static_cast<std::size_t>(-1);
  std::string name;                  // a map key, or the top-level attribute
  std::size_t index = not_an_index;  // a list index, for [N]

  bool is_index() const { return index != not_an_index; }
  bool operator==(const path_step&) const = default;
};

struct document_path {
  std::vector<path_step> steps;  // never empty; the first is a name

  const std::string& top() const { return steps.front().name; }
  bool top_level() const { return steps.size() == 1; }
  // As DynamoDB prints a path in messages: [a, b, [2], c].
  std::string text() const;
  bool operator==(const document_path&) const = default;
};

// The AttributeValue at PATH in ITEM; nullptr when some step is missing or of another type.
const rapidjson::Value* find_path(const rapidjson::Value& item, const document_path& path);

// Sets the AttributeValue at PATH (an index past a list's end appends). False when the path's
// parent is missing or not a map (a name) or a list (an index): DynamoDB refuses the update.
bool assign_path(rapidjson::Value& item, const document_path& path, rapidjson::Value value,
                 rapidjson::Document::AllocatorType& alloc);

// Removes what is at PATH (an index past a list's end removes nothing). False when the path's
// parent is missing or not a map or list.
bool erase_path(rapidjson::Value& item, const document_path& path);

namespace detail {
struct selection;
}

// Paths made ready once to reduce many items to them (the items of a Query's or Scan's page).
// Copies share what they were made from; immutable.
class projection {
 public:
  // Keeps every attribute.
  projection() = default;
  explicit projection(const std::vector<document_path>& paths);

  // ITEM reduced to what the paths select, with the maps and lists around it; list elements keep
  // their order and close up. A copy of all of ITEM when there are no paths.
  rapidjson::Value apply(const rapidjson::Value& item, rapidjson::Document::AllocatorType& alloc) const;
  // The same, moving the kept parts out of ITEM (which the caller gives up) instead of copying
  // them. REQUIRES: ITEM's strings live in ALLOC's memory, or longer.
  rapidjson::Value apply(rapidjson::Value&& item, rapidjson::Document::AllocatorType& alloc) const;

 private:
  std::shared_ptr<const detail::selection> root_;  // null: everything
};

// ITEM reduced to what PATHS select (projection(PATHS).apply(ITEM, ALLOC)).
rapidjson::Value project_paths(const rapidjson::Value& item, const std::vector<document_path>& paths,
                               rapidjson::Document::AllocatorType& alloc);

// DynamoDB's message when two of PATHS overlap (one is the other or inside it: "Two document
// paths overlap ...") or conflict (one indexes a list where the other names a map key: "Two
// document paths conflict ..."); nullopt when they are apart.
std::optional<std::string> overlapping_paths(const std::vector<document_path>& paths);

// Orders PATHS so that removing them one by one removes what each named in the item before any
// was removed: of two indexes into one list, the higher first.
void order_for_removal(std::vector<document_path>& paths);

}  // namespace apigw::store
