#pragma once
// JSON text from files the user gives (configurations, model cards, manifests): a syntax error is a
// bg::Error naming the source and the place, never nlohmann's raw message alone.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors/Error.h"

namespace bg {

// `source`: what the text is, for the message ("configuration tiny.json"). `code`: the error's code
// (Config for configurations, Data for data files).
nlohmann::json parseJsonText(const std::string& text, const std::string& source, ErrorCode code = ErrorCode::Config);

}  // namespace bg

namespace bg {

// Configuration files are checked against what the program knows: `defaults` is the configuration
// with every key at its default (a struct's toJson()), so the list of valid keys and their types
// lives in one place. An unknown key is an error naming it and the closest valid key (a warning
// instead when lenient configuration is on: --lenient); a value of another JSON type than the
// default's is an error naming the key and the expected type. Objects are checked recursively; keys listed
// in `freeForm` (a name or a record, an architecture's own sizes) are left to their own readers.
void checkConfigurationKeys(const nlohmann::json& given, const nlohmann::json& defaults, const std::string& where,
                            const std::vector<std::string>& freeForm = {});
void setLenientConfiguration(bool lenient);
bool lenientConfiguration();

}  // namespace bg
