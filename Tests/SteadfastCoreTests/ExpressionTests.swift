import Testing

@testable import SteadfastCore

@Suite struct ExpressionTests {
    @Test func literals() throws {
        #expect(try evaluate("42") == 42)
        #expect(try evaluate("2.5") == 2.5)
        #expect(try evaluate("1e3") == 1000)
        #expect(try evaluate("'single'") == "single")
        #expect(try evaluate("\"double\"") == "double")
        #expect(try evaluate("'it\\'s'") == "it's")
        #expect(try evaluate("true") == true)
        #expect(try evaluate("false") == false)
        #expect(try evaluate("null") == .null)
    }

    @Test func variablePaths() throws {
        let order: JSONValue = ["id": 7, "items": [["price": 9.5], ["price": 3]], "tags": ["a": "b"]]
        #expect(try evaluate("order.items[0].price", ["order": order]) == 9.5)
        #expect(try evaluate("order.items[1 + 0].price", ["order": order]) == 3)
        #expect(try evaluate("order.tags['a']", ["order": order]) == "b")
        #expect(try evaluate("order.missing", ["order": order]) == .null)
        #expect(try evaluate("order.missing.deeper", ["order": order]) == .null)
        #expect(try evaluate("order.items[5]", ["order": order]) == .null)
        #expect(throws: ExpressionError.self) { try evaluate("order.id.x", ["order": order]) }
        #expect(throws: ExpressionError.self) { try evaluate("order.items[0.5]", ["order": order]) }
        #expect(throws: ExpressionError.self) { try evaluate("nope") }
    }

    @Test func arithmetic() throws {
        #expect(try evaluate("1 + 2 * 3") == 7)
        #expect(try evaluate("(1 + 2) * 3") == 9)
        #expect(try evaluate("10 - 4 - 3") == 3)
        #expect(try evaluate("7 / 2") == 3.5)
        #expect(try evaluate("7 % 3") == 1)
        #expect(try evaluate("-x + 1", ["x": 5]) == -4)
        #expect(try evaluate("- -3") == 3)
        #expect(throws: ExpressionError.self) { try evaluate("1 / 0") }
        #expect(throws: ExpressionError.self) { try evaluate("1 % 0") }
        #expect(throws: ExpressionError.self) { try evaluate("'a' - 1") }
        #expect(throws: ExpressionError.self) { try evaluate("true * 2") }
        #expect(throws: ExpressionError.self) { try evaluate("-'a'") }
        #expect(throws: ExpressionError.self) { try evaluate("1e308 * 10") }
    }

    @Test func concatenation() throws {
        #expect(try evaluate("'order ' + id + ' is ' + s", ["id": 42, "s": "open"]) == "order 42 is open")
        #expect(try evaluate("'x' + 1.5") == "x1.5")
        #expect(try evaluate("'v=' + null") == "v=null")
        #expect(try evaluate("'v=' + true") == "v=true")
        #expect(try evaluate("a + b", ["a": [1], "b": [2]]) == [1, 2])
        #expect(throws: ExpressionError.self) { try evaluate("null + 1") }
    }

    @Test func comparison() throws {
        #expect(try evaluate("1 == 1") == true)
        #expect(try evaluate("1 != 1") == false)
        #expect(try evaluate("'a' == 'a'") == true)
        #expect(try evaluate("o == p", ["o": ["a": [1, 2]], "p": ["a": [1, 2]]]) == true)
        #expect(try evaluate("1 == '1'") == false)
        #expect(try evaluate("1 < 2") == true)
        #expect(try evaluate("2 <= 2") == true)
        #expect(try evaluate("3 > 2") == true)
        #expect(try evaluate("2 >= 3") == false)
        #expect(try evaluate("'apple' < 'banana'") == true)
        #expect(try evaluate("'b' >= 'a'") == true)
        #expect(throws: ExpressionError.self) { try evaluate("1 < 'a'") }
        #expect(throws: ExpressionError.self) { try evaluate("null < 1") }
    }

    @Test func logic() throws {
        #expect(try evaluate("true && false") == false)
        #expect(try evaluate("true || false") == true)
        #expect(try evaluate("!true") == false)
        #expect(try evaluate("!0") == true)
        #expect(try evaluate("!''") == true)
        #expect(try evaluate("!null") == true)
        #expect(try evaluate("1 < 2 && 2 < 3 || false") == true)
        // Short circuit: the right side is not evaluated.
        #expect(try evaluate("false && 1 / 0") == false)
        #expect(try evaluate("true || 1 / 0") == true)
    }

    @Test func functions() throws {
        #expect(try evaluate("now()") == "2026-01-01T00:00:00.000Z")
        #expect(try evaluate("len('héllo')") == 5)
        #expect(try evaluate("len(a)", ["a": [1, 2, 3]]) == 3)
        #expect(try evaluate("len(o)", ["o": ["a": 1]]) == 1)
        #expect(throws: ExpressionError.self) { try evaluate("len(1)") }
        #expect(try evaluate("string(42)") == "42")
        #expect(try evaluate("string(o)", ["o": ["b": 1, "a": [true, nil]]]) == "{\"a\":[true,null],\"b\":1}")
        #expect(try evaluate("number('12.5')") == 12.5)
        #expect(try evaluate("number(true)") == 1)
        #expect(throws: ExpressionError.self) { try evaluate("number('twelve')") }
        #expect(try evaluate("duration('PT1H30M')") == 5400)
        #expect(try evaluate("duration('P1W')") == 604_800)
        #expect(throws: ExpressionError.self) { try evaluate("duration('P1M')") }
        #expect(throws: ExpressionError.self) { try evaluate("duration('1 hour')") }
        #expect(try evaluate("addDuration(now(), 'PT72H')") == "2026-01-04T00:00:00.000Z")
        #expect(try evaluate("addDuration('2026-01-31T10:00:00Z', 'P1M')") == "2026-02-28T10:00:00.000Z")
        #expect(try evaluate("addDuration('2024-02-29T00:00:00+02:00', 'P1Y')") == "2025-02-28T22:00:00.000Z")
        #expect(try evaluate("seconds('1970-01-01T00:01:00Z')") == 60)
        #expect(try evaluate("timestamp(90)") == "1970-01-01T00:01:30.000Z")
        #expect(try evaluate("seconds(addDuration(now(), 'PT5S')) - seconds(now())") == 5)
        #expect(throws: ExpressionError.self) { try evaluate("seconds('yesterday')") }
    }

    @Test(arguments: [
        ("1 +", 4, "expected a value"),
        ("(1 + 2", 7, "expected ')'"),
        ("a == = b", 6, "'=' is not an operator"),
        ("'open", 1, "string is not closed"),
        ("1 2", 3, "unexpected number 2"),
        ("nowz()", 1, "unknown function 'nowz'"),
        ("len()", 1, "len() takes 1 argument, not 0"),
        ("a.", 3, "expected a field name"),
        ("a # b", 3, "unexpected character '#'"),
        ("", 1, "expression is empty"),
    ])
    func syntaxErrorsNameTheColumn(source: String, column: Int, message: String) {
        do {
            _ = try WorkflowExpression(source)
            Issue.record("'\(source)' parsed")
        } catch {
            #expect(error.column == column, "\(source): \(error)")
            #expect(error.message.contains(message), "\(source): \(error)")
        }
    }

    @Test func timestampsRoundTrip() throws {
        for text in ["1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.000Z", "2026-11-23T14:43:52.123Z"] {
            #expect(Instant(iso8601: text)?.iso8601 == text)
        }
        #expect(Instant(iso8601: "2026-11-23") == Instant(iso8601: "2026-11-23T00:00:00Z"))
        #expect(Instant(iso8601: "2026-02-30T00:00:00Z") == nil)
        #expect(Instant(iso8601: "2026-11-23T25:00:00Z") == nil)
        #expect(Instant(iso8601: "2026-11-23T10:00:00") == nil)
    }

    @Test func isoDurations() {
        func millis(_ text: String) -> Int64? { try? ISODuration.parse(text).get().milliseconds }
        #expect(millis("PT30S") == 30_000)
        #expect(millis("PT1.5S") == 1500)
        #expect(millis("P1DT2H") == 93_600_000)
        #expect(millis("P2W") == 1_209_600_000)
        #expect(millis("P") == nil)
        #expect(millis("PT") == nil)
        #expect(millis("P1H") == nil)
        #expect(millis("PT1D") == nil)
        #expect(millis("P1D2Y") == nil)
        #expect(millis("30S") == nil)
        #expect(millis("PT5") == nil)
        // Found by fuzz-expression: a huge number of years overflowed Int64 and crashed.
        #expect(millis("P" + String(repeating: "7", count: 130) + "Y") == nil)
        #expect(millis("P" + String(repeating: "9", count: 400) + "M") == nil)
        #expect(millis("PT" + String(repeating: "9", count: 400) + "S") == nil)
        #expect(millis("P9999Y") == 0)
    }
}
