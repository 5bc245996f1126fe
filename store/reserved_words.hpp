// DynamoDB's reserved words: an expression that names an attribute with one of them, in any
// case, is refused; the attribute has to be written as an expression attribute name (#name).
#pragma once

#include <string_view>

namespace apigw::store {

// True when WORD is one of DynamoDB's 573 reserved words, compared without regard to case.
bool is_reserved_word(std::string_view word);

}  // namespace apigw::store
