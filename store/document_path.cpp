#include "store/document_path.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "store/request_support.hpp"

namespace apigw::store {

// Which parts of an AttributeValue a projection keeps.
struct detail::selection {
  bool whole = false;
  std::map<std::string, selection, std::less<>> names;
  std::map<std::size_t, selection> indexes;
};

namespace {

using detail::selection;

namespace rj = rapidjson;
using detail::member;
using detail::view;

// The payload of AV when it is of TYPE ("M" or "L"), else nullptr.
template <class Value>
Value* payload_if(Value& av, std::string_view type) {
  if (!av.IsObject() || av.MemberCount() != 1 || view(av.MemberBegin()->name) != type) return nullptr;
  Value& p = av.MemberBegin()->value;
  return (type == "M" ? p.IsObject() : p.IsArray()) ? &p : nullptr;
}

template <class Value>
Value* child(Value& av, const path_step& s) {
  if (s.is_index()) {
    Value* list = payload_if(av, "L");
    return list && s.index < list->Size() ? &(*list)[static_cast<rj::SizeType>(s.index)] : nullptr;
  }
  Value* map = payload_if(av, "M");
  if (!map) return nullptr;
  auto it = map->FindMember(rj::StringRef(s.name.data(), static_cast<rj::SizeType>(s.name.size())));
  return it == map->MemberEnd() ? nullptr : &it->value;
}

// The AttributeValue that holds the last step of PATH (nullptr for a top-level path, whose
// parent is the item itself, and when the parent is missing).
rj::Value* parent_of(rj::Value& item, const document_path& path) {
  auto it = item.FindMember(rj::StringRef(path.top().data(), static_cast<rj::SizeType>(path.top().size())));
  if (it == item.MemberEnd()) return nullptr;
  rj::Value* v = &it->value;
  for (std::size_t i = 1; v && i + 1 < path.steps.size(); ++i) v = child(*v, path.steps[i]);
  return v;
}


// A kept part of an item: copied from an item the caller keeps (VALUE const), moved out of one
// it gives up.
rj::Value take(const rj::Value& value, rj::Document::AllocatorType& alloc) { return rj::Value(value, alloc); }
rj::Value take(rj::Value& value, rj::Document::AllocatorType&) { return rj::Value(std::move(value)); }

template <class Value>
std::optional<rj::Value> select(Value& av, const selection& s, rj::Document::AllocatorType& alloc);

// The selected members of MAP (a map's payload, or an item), in MAP's order. Value: rj::Value
// or const rj::Value, as for take().
template <class Value>
rj::Value select_members(Value& map, const selection& s, rj::Document::AllocatorType& alloc) {
  rj::Value kept(rj::kObjectType);
  for (auto m = map.MemberBegin(); m != map.MemberEnd(); ++m) {
    const auto below = s.names.find(view(m->name));
    if (below == s.names.end()) continue;
    if (auto part = select(m->value, below->second, alloc)) kept.AddMember(take(m->name, alloc), *part, alloc);
  }
  return kept;
}

// The selected parts of AV, or nothing when none of them is there.
template <class Value>
std::optional<rj::Value> select(Value& av, const selection& s, rj::Document::AllocatorType& alloc) {
  if (s.whole) return take(av, alloc);
  if (Value* map = payload_if(av, "M"); map && !s.names.empty()) {
    rj::Value kept = select_members(*map, s, alloc);
    if (kept.ObjectEmpty()) return std::nullopt;
    rj::Value out(rj::kObjectType);
    out.AddMember("M", kept, alloc);
    return out;
  }
  if (Value* list = payload_if(av, "L"); list && !s.indexes.empty()) {
    rj::Value kept(rj::kArrayType);
    for (const auto& [index, below] : s.indexes) {
      if (index >= list->Size()) break;
      if (auto part = select((*list)[static_cast<rj::SizeType>(index)], below, alloc)) kept.PushBack(*part, alloc);
    }
    if (kept.Empty()) return std::nullopt;
    rj::Value out(rj::kObjectType);
    out.AddMember("L", kept, alloc);
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::string document_path::text() const {
  std::string out = "[";
  for (const path_step& s : steps) {
    if (out.size() > 1) out += ", ";
    if (s.is_index()) {
      out += '[';
      out += std::to_string(s.index);
      out += ']';
    } else {
      out += s.name;
    }
  }
  return out + "]";
}

const rj::Value* find_path(const rj::Value& item, const document_path& path) {
  const rj::Value* v = member(item, path.top());
  for (std::size_t i = 1; v && i < path.steps.size(); ++i) v = child(*v, path.steps[i]);
  return v;
}

bool assign_path(rj::Value& item, const document_path& path, rj::Value value, rj::Document::AllocatorType& alloc) {
  const path_step& last = path.steps.back();
  rj::Value* container = &item;  // the item is the map of top-level attributes
  if (!path.top_level()) {
    rj::Value* parent = parent_of(item, path);
    container = parent ? payload_if(*parent, last.is_index() ? "L" : "M") : nullptr;
    if (!container) return false;
  }
  if (last.is_index()) {
    if (last.index < container->Size()) {
      (*container)[static_cast<rj::SizeType>(last.index)] = value;
    } else {
      container->PushBack(value, alloc);
    }
    return true;
  }
  auto it = container->FindMember(rj::StringRef(last.name.data(), static_cast<rj::SizeType>(last.name.size())));
  if (it != container->MemberEnd()) {
    it->value = value;
  } else {
    container->AddMember(rj::Value(last.name.c_str(), alloc), value, alloc);
  }
  return true;
}

bool erase_path(rj::Value& item, const document_path& path) {
  const path_step& last = path.steps.back();
  rj::Value* container = &item;
  if (!path.top_level()) {
    rj::Value* parent = parent_of(item, path);
    container = parent ? payload_if(*parent, last.is_index() ? "L" : "M") : nullptr;
    if (!container) return false;
  }
  if (last.is_index()) {
    if (last.index < container->Size()) container->Erase(container->Begin() + last.index);
  } else {
    container->EraseMember(rj::StringRef(last.name.data(), static_cast<rj::SizeType>(last.name.size())));
  }
  return true;
}

projection::projection(const std::vector<document_path>& paths) {
  if (paths.empty()) return;
  auto root = std::make_shared<selection>();
  for (const document_path& p : paths) {
    selection* s = &root->names[p.top()];
    for (std::size_t i = 1; i < p.steps.size(); ++i) {
      s = p.steps[i].is_index() ? &s->indexes[p.steps[i].index] : &s->names[p.steps[i].name];
    }
    s->whole = true;
  }
  root_ = std::move(root);
}

rj::Value projection::apply(const rj::Value& item, rj::Document::AllocatorType& alloc) const {
  if (!root_) return rj::Value(item, alloc);
  return select_members(item, *root_, alloc);
}

rj::Value projection::apply(rj::Value&& item, rj::Document::AllocatorType& alloc) const {
  if (!root_) return rj::Value(std::move(item));
  return select_members(item, *root_, alloc);
}

rj::Value project_paths(const rj::Value& item, const std::vector<document_path>& paths,
                        rj::Document::AllocatorType& alloc) {
  return projection(paths).apply(item, alloc);
}

std::optional<std::string> overlapping_paths(const std::vector<document_path>& paths) {
  for (std::size_t i = 0; i < paths.size(); ++i) {
    for (std::size_t j = i + 1; j < paths.size(); ++j) {
      const auto& a = paths[i].steps;
      const auto& b = paths[j].steps;
      const std::size_t common = std::min(a.size(), b.size());
      std::size_t k = 0;
      while (k < common && a[k] == b[k]) ++k;
      const std::string which = "path one: " + paths[i].text() + ", path two: " + paths[j].text();
      if (k == common) {
        return "Two document paths overlap with each other; must remove or rewrite one of these paths; " + which;
      }
      if (a[k].is_index() != b[k].is_index()) {
        return "Two document paths conflict with each other; must remove or rewrite one of these paths; " + which;
      }
    }
  }
  return std::nullopt;
}

void order_for_removal(std::vector<document_path>& paths) {
  // A total order, step by step: names by name, indexes from the highest down, a name before an
  // index, a path before the paths inside it.
  std::sort(paths.begin(), paths.end(), [](const document_path& a, const document_path& b) {
    const std::size_t common = std::min(a.steps.size(), b.steps.size());
    for (std::size_t k = 0; k < common; ++k) {
      const path_step& x = a.steps[k];
      const path_step& y = b.steps[k];
      if (x == y) continue;
      if (x.is_index() != y.is_index()) return !x.is_index();
      return x.is_index() ? x.index > y.index : x.name < y.name;
    }
    return a.steps.size() < b.steps.size();
  });
}

}  // namespace apigw::store
