/// An ISO-8601 duration such as `PT72H`, `P1DT12H`, `P2W` or `P1M`.
///
/// Years and months are calendar units: adding `P1M` to January 31st gives the last day of
/// February. Everything else is a fixed number of milliseconds.
public struct ISODuration: Hashable, Sendable, CustomStringConvertible {
    public var months: Int64
    /// The fixed part: weeks, days, hours, minutes and seconds, in milliseconds.
    public var milliseconds: Int64
    public let description: String

    /// Parses an ISO-8601 duration; returns a message naming the problem when it is not one.
    public static func parse(_ text: String) -> Result<ISODuration, DurationSyntaxError> {
        let characters = Array(text)
        guard characters.first == "P", characters.count > 1 else {
            return .failure(
                DurationSyntaxError(
                    "'\(text)' is not an ISO-8601 duration: it must start with 'P', as in 'PT30S' or 'P1D'"))
        }
        var months: Int64 = 0
        var milliseconds: Double = 0
        var inTime = false
        var sawComponent = false
        var number = ""
        var lastUnitRank = -1
        for character in characters.dropFirst() {
            if character.isNumber || character == "." || character == "," {
                number.append(character == "," ? "." : character)
                continue
            }
            if character == "T" {
                guard !inTime, number.isEmpty else { return .failure(DurationSyntaxError("'\(text)': misplaced 'T'")) }
                inTime = true
                continue
            }
            let units: [Character: (rank: Int, months: Int64, millis: Double)] =
                inTime
                ? ["H": (4, 0, 3_600_000), "M": (5, 0, 60_000), "S": (6, 0, 1000)]
                : ["Y": (0, 12, 0), "M": (1, 1, 0), "W": (2, 0, 604_800_000), "D": (3, 0, 86_400_000)]
            guard let unit = units[character] else {
                return .failure(
                    DurationSyntaxError("'\(text)': unexpected '\(character)'\(inTime ? " after 'T'" : "")"))
            }
            guard let value = Double(number), value >= 0 else {
                return .failure(DurationSyntaxError("'\(text)': '\(character)' needs a number before it"))
            }
            guard unit.rank > lastUnitRank else {
                return .failure(DurationSyntaxError("'\(text)': components must be in the order Y M W D T H M S"))
            }
            if unit.months > 0 {
                guard value.rounded() == value else {
                    return .failure(DurationSyntaxError("'\(text)': years and months must be whole numbers"))
                }
                // Checked before converting: a huge number of years must not overflow.
                guard value < 120_000 else { return .failure(DurationSyntaxError("'\(text)' is too long")) }
                months += Int64(value) * unit.months
            } else {
                milliseconds += value * unit.millis
            }
            lastUnitRank = unit.rank
            sawComponent = true
            number = ""
        }
        guard number.isEmpty, sawComponent else {
            return .failure(DurationSyntaxError("'\(text)' is incomplete: every number needs a unit, as in 'PT30S'"))
        }
        guard milliseconds < 9e15, months < 120_000 else {
            return .failure(DurationSyntaxError("'\(text)' is too long"))
        }
        return .success(ISODuration(months: months, milliseconds: Int64(milliseconds.rounded()), description: text))
    }

    /// The instant this duration after `start`.
    public func added(to start: Instant) -> Instant {
        var result = start
        if months != 0 {
            let (days, milliOfDay) = start.millisecondsSinceEpoch.floorDivided(by: 86_400_000)
            let (year, month, day) = CivilDate.fromDays(days)
            let monthIndex = year * 12 + (month - 1) + months
            let (newYear, newMonth0) = monthIndex.floorDivided(by: 12)
            let newDay = min(day, CivilDate.daysIn(newMonth0 + 1, of: newYear))
            let newDays = CivilDate.toDays(year: newYear, month: newMonth0 + 1, day: newDay)
            result = Instant(millisecondsSinceEpoch: newDays * 86_400_000 + milliOfDay)
        }
        return result.adding(milliseconds: milliseconds)
    }
}

public struct DurationSyntaxError: Error, Hashable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}
