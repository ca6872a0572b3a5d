// Chat members with structure: messages (roles, content by role), tools, tool_choice, response_format.
#include "openai/validate.h"

namespace sluice::openai::validate {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::string_view kRoles = "'system', 'developer', 'user', 'assistant', 'tool', and 'function'";
constexpr std::string_view kContentTypes = "a string or an array of content parts";

enum class Role : std::uint8_t { kSystem, kDeveloper, kUser, kAssistant, kTool, kFunction, kInvalid };

Role role_of(std::string_view r) {
  switch (r.size()) {
    case 4:
      return r == "user" ? Role::kUser : r == "tool" ? Role::kTool : Role::kInvalid;
    case 6:
      return r == "system" ? Role::kSystem : Role::kInvalid;
    case 8:
      return r == "function" ? Role::kFunction : Role::kInvalid;
    case 9:
      return r == "assistant" ? Role::kAssistant : r == "developer" ? Role::kDeveloper : Role::kInvalid;
    default:
      return Role::kInvalid;
  }
}

// The required string member of an object; `p` names it.
bool required_string(simdjson::dom::object o, const Param& p, std::string_view name, std::string_view& out,
                     Error& err) {
  element got;
  if (o[name].get(got) || got.is_null()) {
    return fail_missing(err, p);
  }
  return !got.get(out) || fail_type(err, p, "a string", got);
}

// Content parts: objects with a "type"; a text part carries its "text" as a string.
bool content_parts(simdjson::dom::array parts, std::size_t message, Error& err) {
  if (parts.size() == 0) {
    return fail_empty_array(err, {"messages", message, "content"});
  }
  std::size_t i = 0;
  for (element part : parts) {
    simdjson::dom::object o;
    if (part.get(o)) {
      return fail_type(err, {"messages", message, "content", i}, "an object", part);
    }
    std::string_view type, text;
    if (!required_string(o, {"messages", message, "content", i, "type"}, "type", type, err) ||
        (type == "text" &&
         !required_string(o, {"messages", message, "content", i, "text"}, "text", text, err))) {
      return false;
    }
    ++i;
  }
  return true;
}

// The members of one message that decide its validity, gathered in one pass over its keys.
struct MessageMembers {
  std::string_view role;
  element content;
  bool has_role = false, has_content = false, has_calls = false, has_call_id = false, has_name = false;
};

bool read_message(simdjson::dom::object o, std::size_t index, MessageMembers& m, Error& err) {
  for (auto [key, value] : o) {
    switch (key.size()) {
      case 4:
        if (key == "role") {
          if (value.get(m.role)) {
            return fail_type(err, {"messages", index, "role"}, "a string", value);
          }
          m.has_role = true;
        } else if (key == "name") {
          m.has_name = !value.is_null();
          if (m.has_name && value.type() != element_type::STRING) {
            return fail_type(err, {"messages", index, "name"}, "a string", value);
          }
        }
        break;
      case 7:
        if (key == "content") {
          m.content = value;
          m.has_content = true;
        }
        break;
      case 10:
        if (key == "tool_calls" && !value.is_null()) {
          if (value.type() != element_type::ARRAY) {
            return fail_type(err, {"messages", index, "tool_calls"}, "an array", value);
          }
          m.has_calls = true;
        }
        break;
      case 12:
        if (key == "tool_call_id") {
          if (value.type() != element_type::STRING) {
            return fail_type(err, {"messages", index, "tool_call_id"}, "a string", value);
          }
          m.has_call_id = true;
        }
        break;
      case 13:
        m.has_calls |= key == "function_call" && !value.is_null();
        break;
      default:
        break;
    }
  }
  return true;
}

// One message: a known role, and content of the right type for it.
bool message(element value, std::size_t index, Error& err) {
  simdjson::dom::object o;
  if (value.get(o)) {
    return fail_type(err, {"messages", index}, "an object", value);
  }
  MessageMembers m;
  if (!read_message(o, index, m, err)) {
    return false;
  }
  if (!m.has_role) {
    return fail_missing(err, {"messages", index, "role"});
  }
  const Role role = role_of(m.role);
  if (role == Role::kInvalid) {
    return fail_value(err, {"messages", index, "role"}, m.role, kRoles);
  }
  const element_type content = m.has_content ? m.content.type() : element_type::NULL_VALUE;
  if (content == element_type::NULL_VALUE) {
    // An assistant turn may be only tool calls; a function result may be null.
    if (role == Role::kFunction || (role == Role::kAssistant && m.has_calls)) {
      return true;
    }
    return m.has_content ? fail_type(err, {"messages", index, "content"}, kContentTypes, m.content)
                         : fail_missing(err, {"messages", index, "content"});
  }
  if (content != element_type::STRING) {
    simdjson::dom::array parts;
    if (m.content.get(parts)) {
      return fail_type(err, {"messages", index, "content"}, kContentTypes, m.content);
    }
    if (!content_parts(parts, index, err)) {
      return false;
    }
  }
  if (role == Role::kTool && !m.has_call_id) {
    return fail_missing(err, {"messages", index, "tool_call_id"});
  }
  return role != Role::kFunction || m.has_name || fail_missing(err, {"messages", index, "name"});
}

// {"function": {"name": string, ...}}: the function a tool (tools[i]) or the tool choice names.
bool named_function(simdjson::dom::object parent, std::string_view name, std::size_t index, Error& err) {
  element f;
  if (parent["function"].get(f) || f.is_null()) {
    return fail_missing(err, {name, index, "function"});
  }
  simdjson::dom::object fo;
  if (f.get(fo)) {
    return fail_type(err, {name, index, "function"}, "an object", f);
  }
  std::string_view fn;
  const Param p{name, index, "function", Param::kNone, "name"};
  if (!required_string(fo, p, "name", fn, err)) {
    return false;
  }
  return !fn.empty() || fail_empty_string(err, p, "empty_string", "empty string. Expected a function name.");
}

}  // namespace

bool messages(element value, Error& err) {
  simdjson::dom::array a;
  if (value.get(a)) {
    return fail_type(err, {"messages"}, "an array of objects", value);
  }
  std::size_t i = 0;
  for (element m : a) {
    if (!message(m, i, err)) {
      return false;
    }
    ++i;
  }
  return i > 0 || fail_empty_array(err, {"messages"});
}

bool tools(element value, Error& err) {
  constexpr std::size_t kMaxTools = 128;
  simdjson::dom::array a;
  if (value.get(a)) {
    return type_or_null(err, {"tools"}, "an array of objects", value);
  }
  if (a.size() > kMaxTools) {
    return fail_too_long(err, {"tools"}, kMaxTools, a.size());
  }
  std::size_t i = 0;
  for (element t : a) {
    simdjson::dom::object o;
    if (t.get(o)) {
      return fail_type(err, {"tools", i}, "an object", t);
    }
    std::string_view type;
    if (!required_string(o, {"tools", i, "type"}, "type", type, err) ||
        (type == "function" && !named_function(o, "tools", i, err))) {
      return false;
    }
    ++i;
  }
  return true;
}

bool tool_choice(element value, Error& err) {
  std::string_view s;
  if (!value.get(s)) {
    return s == "none" || s == "auto" || s == "required" ||
           fail_value(err, {"tool_choice"}, s,
                      "'none', 'auto', and 'required', or an object naming a function");
  }
  simdjson::dom::object o;
  if (value.get(o)) {
    return type_or_null(err, {"tool_choice"}, "a string or an object", value);
  }
  std::string_view type;
  return required_string(o, {"tool_choice", Param::kNone, "type"}, "type", type, err) &&
         (type != "function" || named_function(o, "tool_choice", Param::kNone, err));
}

bool response_format(element value, Error& err) {
  simdjson::dom::object o;
  if (value.get(o)) {
    return type_or_null(err, {"response_format"}, "an object", value);
  }
  std::string_view type;
  if (!required_string(o, {"response_format", Param::kNone, "type"}, "type", type, err)) {
    return false;
  }
  if (type != "json_schema") {
    return true;
  }
  const Param schema_param{"response_format", Param::kNone, "json_schema"};
  element schema;
  if (o["json_schema"].get(schema) || schema.is_null()) {
    return fail_missing(err, schema_param);
  }
  simdjson::dom::object so;
  if (schema.get(so)) {
    return fail_type(err, schema_param, "an object", schema);
  }
  std::string_view name;
  return required_string(so, {"response_format", Param::kNone, "json_schema", Param::kNone, "name"}, "name",
                         name, err);
}

}  // namespace sluice::openai::validate
