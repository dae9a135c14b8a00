import Testing
@testable import SteadfastCore

@Test func emptyPlaceholderReplacedSoon() {}
