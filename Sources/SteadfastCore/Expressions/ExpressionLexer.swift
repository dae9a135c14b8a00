/// Splits expression source into tokens, remembering each token's 1-based column.
struct ExpressionLexer {
    enum Kind: Hashable {
        case number(Double)
        case string(String)
        case identifier(String)
        case symbol(String)
        case end
    }

    struct Token: Hashable {
        var kind: Kind
        var column: Int
    }

    static func tokenize(_ source: String) throws(ExpressionSyntaxError) -> [Token] {
        let characters = Array(source)
        var tokens: [Token] = []
        var position = 0
        while position < characters.count {
            let character = characters[position]
            let column = position + 1
            if character.isWhitespace {
                position += 1
            } else if character.isASCII && character.isNumber {
                var end = position
                while end < characters.count, characters[end].isASCII,
                    characters[end].isNumber || characters[end] == "."
                {
                    end += 1
                }
                if end < characters.count, characters[end] == "e" || characters[end] == "E" {
                    end += 1
                    if end < characters.count, characters[end] == "+" || characters[end] == "-" { end += 1 }
                    while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
                }
                let text = String(characters[position..<end])
                guard let value = Double(text), value.isFinite else {
                    throw ExpressionSyntaxError(column: column, message: "'\(text)' is not a number")
                }
                tokens.append(Token(kind: .number(value), column: column))
                position = end
            } else if character == "'" || character == "\"" {
                var value = ""
                var end = position + 1
                var closed = false
                while end < characters.count {
                    let next = characters[end]
                    if next == character {
                        closed = true
                        break
                    }
                    if next == "\\", end + 1 < characters.count {
                        end += 1
                        switch characters[end] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        default: value.append(characters[end])
                        }
                    } else {
                        value.append(next)
                    }
                    end += 1
                }
                guard closed else {
                    throw ExpressionSyntaxError(column: column, message: "string is not closed: add \(character)")
                }
                tokens.append(Token(kind: .string(value), column: column))
                position = end + 1
            } else if character.isLetter || character == "_" || character == "$" {
                var end = position
                while end < characters.count,
                    characters[end].isLetter || characters[end].isNumber || characters[end] == "_"
                        || characters[end] == "$"
                {
                    end += 1
                }
                tokens.append(Token(kind: .identifier(String(characters[position..<end])), column: column))
                position = end
            } else {
                let pair = position + 1 < characters.count ? String(characters[position...position + 1]) : ""
                if ["==", "!=", "<=", ">=", "&&", "||"].contains(pair) {
                    tokens.append(Token(kind: .symbol(pair), column: column))
                    position += 2
                } else if "+-*/%<>!()[].,".contains(character) {
                    tokens.append(Token(kind: .symbol(String(character)), column: column))
                    position += 1
                } else if character == "=" {
                    throw ExpressionSyntaxError(column: column, message: "'=' is not an operator: use '==' to compare")
                } else {
                    throw ExpressionSyntaxError(column: column, message: "unexpected character '\(character)'")
                }
            }
        }
        tokens.append(Token(kind: .end, column: characters.count + 1))
        return tokens
    }
}
