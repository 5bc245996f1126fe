#include "emulator/auth/iam_policy.hpp"

#include <algorithm>

namespace apigw::emulator {

namespace {

// "Action": "x" or ["x", "y"].
result<std::vector<std::string>> string_or_list(const rapidjson::Value& v, const std::string& path) {
  std::vector<std::string> out;
  if (v.IsString()) {
    out.emplace_back(v.GetString(), v.GetStringLength());
    return out;
  }
  if (v.IsArray() && !v.Empty()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (!v[i].IsString()) return fail(path + "[" + std::to_string(i) + "]: expected a string");
      out.emplace_back(v[i].GetString(), v[i].GetStringLength());
    }
    return out;
  }
  return fail(path + ": expected a string or a non-empty array of strings");
}

}  // namespace

result<iam_policy> iam_policy::parse(const rapidjson::Value& document) {
  if (!document.IsObject()) return fail("expected a policy document (a JSON object)");
  for (auto m = document.MemberBegin(); m != document.MemberEnd(); ++m) {
    const std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (key != "Version" && key != "Statement" && key != "Id") {
      return fail(std::string(key) + ": unknown key; a policy document has Version, Id and Statement");
    }
  }
  auto version = document.FindMember("Version");
  if (version != document.MemberEnd() &&
      (!version->value.IsString() || (std::string_view(version->value.GetString()) != "2012-10-17" &&
                                      std::string_view(version->value.GetString()) != "2008-10-17"))) {
    return fail("Version: expected \"2012-10-17\" or \"2008-10-17\"");
  }
  auto statements = document.FindMember("Statement");
  if (statements == document.MemberEnd()) return fail("Statement: missing");
  std::vector<const rapidjson::Value*> list;
  if (statements->value.IsObject()) {
    list.push_back(&statements->value);
  } else if (statements->value.IsArray()) {
    for (const auto& s : statements->value.GetArray()) list.push_back(&s);
  } else {
    return fail("Statement: expected an object or an array of objects");
  }

  iam_policy policy;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const rapidjson::Value& s = *list[i];
    const std::string path = statements->value.IsArray() ? "Statement[" + std::to_string(i) + "]" : "Statement";
    if (!s.IsObject()) return fail(path + ": expected an object");
    for (auto m = s.MemberBegin(); m != s.MemberEnd(); ++m) {
      const std::string_view key(m->name.GetString(), m->name.GetStringLength());
      if (key != "Effect" && key != "Action" && key != "Resource" && key != "Sid") {
        return fail(path + "." + std::string(key) +
                    ": not supported; a statement has Sid, Effect, Action and Resource");
      }
    }
    statement st;
    auto effect = s.FindMember("Effect");
    if (effect == s.MemberEnd() || !effect->value.IsString() ||
        (std::string_view(effect->value.GetString()) != "Allow" &&
         std::string_view(effect->value.GetString()) != "Deny")) {
      return fail(path + ".Effect: expected \"Allow\" or \"Deny\"");
    }
    st.allow = std::string_view(effect->value.GetString()) == "Allow";
    for (auto [key, target] : {std::pair{"Action", &st.actions}, std::pair{"Resource", &st.resources}}) {
      auto m = s.FindMember(key);
      if (m == s.MemberEnd()) return fail(path + "." + key + ": missing");
      auto values = string_or_list(m->value, path + "." + key);
      if (!values) return values.status();
      for (auto& text : *values) {
        const std::size_t head = head_of(text);
        target->push_back({std::move(text), head});
      }
    }
    policy.statements_.push_back(std::move(st));
  }
  return policy;
}

bool iam_policy::statement::takes_action(std::string_view action) const {
  for (const auto& a : actions) {
    if (matches(a.text, a.head, action, true)) return true;
  }
  return false;
}

iam_policy::decision iam_policy::evaluate(std::string_view action, std::string_view resource) const {
  bool allowed = false;
  for (const auto& st : statements_) {
    if (!st.takes_action(action)) continue;
    bool resource_matches = false;
    for (const auto& r : st.resources) {
      resource_matches = resource_matches || matches(r.text, r.head, resource, false);
    }
    if (!resource_matches) continue;
    if (!st.allow) return decision::explicit_deny;
    allowed = true;
  }
  return allowed ? decision::allow : decision::implicit_deny;
}

std::optional<iam_policy::decision> iam_policy::decision_for_every(std::string_view action,
                                                                   std::string_view prefix) const {
  bool allowed = false;
  for (const auto& st : statements_) {
    if (!st.takes_action(action)) continue;
    bool takes_all = false, takes_some = false;
    for (const auto& r : st.resources) {
      const std::string_view text = r.text;
      const std::string_view head = text.substr(0, r.head);
      const std::size_t common = std::min(head.size(), prefix.size());
      // Resources are compared with case, as evaluate() compares them.
      if (head.substr(0, common) != prefix.substr(0, common)) continue;   // parts from PREFIX
      if (head.size() == text.size() && text.size() <= prefix.size()) continue;  // a literal too short
      if (head.size() <= prefix.size() && text.size() == head.size() + 1 && text.back() == '*') {
        takes_all = true;
      } else {
        takes_some = true;
      }
    }
    if (!takes_all && takes_some) return std::nullopt;
    if (!takes_all) continue;
    if (!st.allow) return decision::explicit_deny;
    allowed = true;
  }
  return allowed ? decision::allow : decision::implicit_deny;
}

bool iam_policy::matches(std::string_view pattern, std::string_view text, bool ignore_case) {
  return matches(pattern, head_of(pattern), text, ignore_case);
}

std::size_t iam_policy::head_of(std::string_view pattern) {
  std::size_t head = 0;
  while (head < pattern.size() && pattern[head] != '*' && pattern[head] != '?') ++head;
  return head;
}

bool iam_policy::matches(std::string_view pattern, std::size_t head, std::string_view text, bool ignore_case) {
  // IAM compares actions without case in ASCII; no name or ARN has other letters to fold.
  const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  const auto same = [&](char a, char b) { return a == b || (ignore_case && fold(a) == fold(b)); };
  // The literal head needs no backtracking: it ends the match at its first difference. A pattern
  // without wildcards matches only a text of its length, which rules out most of a statement's
  // actions at once; and a policy spells an action as its service does, nearly always, so the
  // bytes are compared as a block before letter by letter without case.
  const bool literal = head == pattern.size();
  if (literal ? text.size() != head : text.size() < head) return false;
  if (pattern.substr(0, head) != text.substr(0, head)) {
    if (!ignore_case) return false;
    for (std::size_t i = 0; i < head; ++i) {
      if (!same(pattern[i], text[i])) return false;
    }
  }
  if (literal) return true;
  pattern.remove_prefix(head);
  text.remove_prefix(head);
  if (pattern == "*") return true;
  // Greedy matching with one backtrack point: linear for the patterns IAM allows.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace apigw::emulator
