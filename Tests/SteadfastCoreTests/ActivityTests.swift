import Testing

@testable import SteadfastCore

@Suite struct ActivityTests {
    @Test func sequenceAssignWriteLine() throws {
        let wf = try definition(
            """
            {"sequence": [{"assign": {"to": "x", "value": "2"}}, {"assign": {"to": "o.a[0]", "value": "x * 3"}},
                          {"writeLine": {"text": "'x=' + x + ' o=' + o"}}]}
            """, variables: ["x": 0, "o": nil])
        let (_, result) = try start(wf)
        #expect(result.status == .completed)
        #expect(result.lines == ["x=2 o={\"a\":[6]}"])
        #expect(result.outputs?["o"] == ["a": [6]])
        #expect(result.trace.first == TraceEvent(path: "body.sequence", kind: .started))
        #expect(result.trace.last == TraceEvent(path: "body.sequence", kind: .completed))
    }

    @Test func ifElse() throws {
        let body = """
            {"if": {"condition": "n > 1", "then": {"writeLine": {"text": "'big'"}}, "else": {"writeLine": {"text": "'small'"}}}}
            """
        let wf = try definition(body, variables: ["n": 0])
        #expect(try start(wf, input: ["n": 5]).1.lines == ["big"])
        #expect(try start(wf, input: ["n": 1]).1.lines == ["small"])
        let noElse = try definition(
            #"{"if": {"condition": "n", "then": {"writeLine": {"text": "'yes'"}}}}"#, variables: ["n": 0])
        #expect(try start(noElse).1.lines == [])
        #expect(try start(noElse).1.status == .completed)
    }

    @Test func whileLoop() throws {
        let wf = try definition(
            """
            {"while": {"condition": "i < 3", "body": {"sequence": [
                {"writeLine": {"text": "'i=' + i"}}, {"assign": {"to": "i", "value": "i + 1"}}]}}}
            """, variables: ["i": 0])
        let (_, result) = try start(wf)
        #expect(result.lines == ["i=0", "i=1", "i=2"])
        #expect(result.outputs?["i"] == 3)
    }

    @Test func runawayLoopFaultsInsteadOfHanging() throws {
        let wf = try definition(
            #"{"while": {"condition": "true", "body": {"assign": {"to": "i", "value": "i + 1"}}}}"#, variables: ["i": 0]
        )
        var instance = try WorkflowInstance(definition: wf, instanceID: "loop")
        instance.stepLimit = 1000
        let result = instance.run(now: t0)
        #expect(result.status == .faulted)
        #expect(result.fault?.message.contains("step limit") == true)
    }

    @Test func delayByDurationAndUntil() throws {
        let wf = try definition(
            #"{"sequence": [{"delay": {"duration": "PT2S"}}, {"delay": {"until": "addDuration(now(), 'PT1H')"}}, {"writeLine": {"text": "'done'"}}]}"#
        )
        var (instance, result) = try start(wf)
        #expect(result.status == .idle)
        #expect(result.nextTimer == t0.adding(milliseconds: 2000))
        // Not yet due: nothing happens.
        result = instance.resumeDueTimers(now: t0.adding(milliseconds: 1999))
        #expect(result.nextTimer == t0.adding(milliseconds: 2000))
        let later = t0.adding(milliseconds: 2500)
        result = instance.resumeDueTimers(now: later)
        #expect(result.status == .idle)
        #expect(result.nextTimer == later.adding(milliseconds: 3_600_000))
        result = instance.resumeDueTimers(now: later.adding(milliseconds: 3_600_000))
        #expect(result.status == .completed)
        #expect(result.lines == ["done"])
    }

    @Test func delayUntilBadTimeFaults() throws {
        let wf = try definition(#"{"delay": {"until": "'next tuesday'"}}"#)
        let (_, result) = try start(wf)
        #expect(result.status == .faulted)
        #expect(result.fault?.activityPath == "body.delay")
        #expect(result.fault?.message.contains("ISO-8601") == true)
    }

    @Test func persistWaitsForAcknowledgement() throws {
        let wf = try definition(
            #"{"sequence": [{"writeLine": {"text": "'before'"}}, {"persist": {}}, {"writeLine": {"text": "'after'"}}]}"#
        )
        var (instance, result) = try start(wf)
        #expect(result.persistRequested)
        #expect(result.canPersist)
        #expect(result.status == .running)
        #expect(result.lines == ["before"])
        // Running again without a save changes nothing.
        result = instance.run(now: t0)
        #expect(result.lines.isEmpty && result.persistRequested)
        result = instance.acknowledgePersist(now: t0)
        #expect(result.status == .completed)
        #expect(result.lines == ["after"])
    }

    @Test func receiveAssignsTheMessage() throws {
        let wf = try definition(
            #"{"sequence": [{"receive": {"operation": "go", "assignTo": "msg"}}, {"writeLine": {"text": "msg.n"}}]}"#,
            variables: ["msg": nil])
        var (instance, result) = try start(wf)
        #expect(result.status == .idle)
        #expect(result.bookmarks.map(\.operation) == ["go"])
        #expect(throws: WorkflowError.self) { try instance.resume(operation: "stop", message: nil, now: t0) }
        result = try instance.resume(operation: "go", message: ["n": 5], now: t0)
        #expect(result.status == .completed)
        #expect(result.lines == ["5"])
        #expect(throws: WorkflowError.self) { try instance.resume(operation: "go", message: nil, now: t0) }
    }

    @Test func correlatedReceiveChecksTheKey() throws {
        let wf = try definition(
            """
            {"sequence": [{"receive": {"operation": "submit", "correlateOn": "orderId", "createsInstance": true, "assignTo": "order"}},
                          {"receive": {"operation": "approve", "correlateOn": "orderId"}}]}
            """, variables: ["orderId": nil, "order": nil], keys: ["orderId"])
        #expect(wf.creatingOperations == ["submit"])
        var (instance, _) = try start(wf)
        #expect(throws: WorkflowError.self) { try instance.resume(operation: "submit", message: ["other": 1], now: t0) }
        var result = try instance.resume(operation: "submit", message: ["orderId": 42, "total": 10], now: t0)
        #expect(instance.state.keys == ["orderId": 42])
        #expect(
            result.bookmarks == [
                Bookmark(
                    operation: "approve", correlateOn: "orderId", createsInstance: false,
                    activityPath: "body.sequence[1].receive")
            ])
        do {
            _ = try instance.resume(operation: "approve", message: ["orderId": 43], now: t0)
            Issue.record("a message for another key was accepted")
        } catch {
            #expect(error.code == .correlationMismatch)
            #expect(error.message.contains("43") && error.message.contains("42"))
        }
        result = try instance.resume(operation: "approve", message: ["orderId": 42], now: t0)
        #expect(result.status == .completed)
    }

    @Test func pickReceiveWinsAndCancelsTheTimer() throws {
        let wf = try definition(Self.pickBody, variables: ["status": "new"])
        var (instance, result) = try start(wf)
        #expect(result.bookmarks.map(\.operation) == ["approve"])
        #expect(result.nextTimer == t0.adding(milliseconds: 72 * 3_600_000))
        result = try instance.resume(operation: "approve", message: nil, now: t0)
        #expect(result.status == .idle)
        #expect(instance.state.timers.isEmpty, "the losing Delay's timer must be removed")
        #expect(result.bookmarks.map(\.operation) == ["after"], "only the action's bookmark is open")
        #expect(result.trace.contains(TraceEvent(path: "body.pick[1].trigger.delay", kind: .canceled)))
        #expect(instance.state.variables["status"] == "approved")
    }

    @Test func pickDelayWinsAndClosesTheBookmark() throws {
        let wf = try definition(Self.pickBody, variables: ["status": "new"])
        var (instance, _) = try start(wf)
        let result = instance.resumeDueTimers(now: t0.adding(milliseconds: 72 * 3_600_000))
        #expect(instance.state.variables["status"] == "expired")
        #expect(result.bookmarks.map(\.operation) == ["after"])
        #expect(throws: WorkflowError.self) { try instance.resume(operation: "approve", message: nil, now: t0) }
    }

    static let pickBody = """
        {"pick": [
            {"trigger": {"receive": {"operation": "approve"}}, "action": {"sequence": [
                {"assign": {"to": "status", "value": "'approved'"}}, {"receive": {"operation": "after"}}]}},
            {"trigger": {"delay": {"duration": "PT72H"}}, "action": {"sequence": [
                {"assign": {"to": "status", "value": "'expired'"}}, {"receive": {"operation": "after"}}]}}]}
        """

    @Test func pickTriggerWithoutAction() throws {
        let wf = try definition(
            #"{"pick": [{"trigger": {"receive": {"operation": "a"}}}, {"trigger": {"delay": {"duration": "PT1S"}}}]}"#)
        var (instance, _) = try start(wf)
        #expect(try instance.resume(operation: "a", message: nil, now: t0).status == .completed)
    }

    @Test func parallelInterleavesAtIdlePoints() throws {
        let wf = try definition(
            """
            {"sequence": [{"parallel": [
                {"sequence": [{"writeLine": {"text": "'a1'"}}, {"receive": {"operation": "a"}}, {"writeLine": {"text": "'a2'"}}]},
                {"sequence": [{"writeLine": {"text": "'b1'"}}, {"delay": {"duration": "PT1S"}}, {"writeLine": {"text": "'b2'"}}]}]},
                {"writeLine": {"text": "'joined'"}}]}
            """)
        var (instance, result) = try start(wf)
        #expect(result.lines == ["a1", "b1"])
        result = instance.resumeDueTimers(now: t0.adding(milliseconds: 1000))
        #expect(result.lines == ["b2"])
        #expect(result.status == .idle)
        result = try instance.resume(operation: "a", message: nil, now: t0)
        #expect(result.lines == ["a2", "joined"])
        #expect(result.status == .completed)
    }

    @Test func parallelBranchFaultCancelsTheOthers() throws {
        let wf = try definition(#"{"parallel": [{"receive": {"operation": "a"}}, {"throw": {"message": "'boom'"}}]}"#)
        let (instance, result) = try start(wf)
        #expect(result.status == .faulted)
        #expect(result.fault == WorkflowFault(message: "boom", activityPath: "body.parallel[1].throw"))
        #expect(instance.state.bookmarks.isEmpty)
    }

    @Test func syncInvokeAndItsFaultCaught() throws {
        let wf = try definition(
            """
            {"sequence": [{"invoke": {"activity": "double", "input": "21", "assignTo": "r"}},
              {"tryCatch": {"try": {"invoke": {"activity": "fail", "input": "r"}}, "errorTo": "err",
                            "catch": {"writeLine": {"text": "'caught: ' + err.message + ' at ' + err.activity"}}}}]}
            """, variables: ["r": nil, "err": nil], registry: testRegistry)
        let (_, result) = try start(wf)
        #expect(result.status == .completed)
        #expect(result.outputs?["r"] == 42)
        #expect(
            result.lines == [
                "caught: custom activity 'fail' failed: failed on 42 at body.sequence[1].tryCatch.try.invoke"
            ])
    }

    @Test func asyncInvokeIsANoPersistZoneAndItsFaultIsCaught() throws {
        let wf = try definition(
            """
            {"sequence": [{"invoke": {"activity": "slowDouble", "input": "4", "assignTo": "r"}},
              {"tryCatch": {"try": {"invoke": {"activity": "slowDouble", "input": "'x'"}}, "errorTo": "err",
                            "catch": {"assign": {"to": "r", "value": "err.message"}}}}]}
            """, variables: ["r": nil, "err": nil], registry: testRegistry)
        var (instance, result) = try start(wf)
        #expect(result.status == .running)
        #expect(!result.canPersist)
        #expect(
            result.asyncCalls == [
                AsyncCall(call: 0, activity: "slowDouble", input: 4, activityPath: "body.sequence[0].invoke")
            ])
        #expect(throws: WorkflowError.self) { try instance.completeAsync(call: 7, outcome: .success(1), now: t0) }
        result = try instance.completeAsync(call: 0, outcome: .success(8), now: t0)
        #expect(instance.state.variables["r"] == 8)
        #expect(result.asyncCalls.map(\.call) == [1])
        result = try instance.completeAsync(call: 1, outcome: .failure("slowDouble needs a number"), now: t0)
        #expect(result.status == .completed)
        #expect(result.outputs?["r"] == "custom activity 'slowDouble' failed: slowDouble needs a number")
        #expect(result.canPersist)
    }

    @Test func unregisteredInvokeFaultsAtRunTime() throws {
        let document = try JSONValue.parse(
            #"{"name": "n", "version": "1", "body": {"invoke": {"activity": "missing"}}}"#, what: "test")
        let wf = try WorkflowDefinition(document: document, checkInvokes: false)
        let (_, result) = try start(wf)
        #expect(result.status == .faulted)
        #expect(result.fault?.message.contains("no custom activity named 'missing'") == true)
    }

    @Test func tryCatchCatchesExpressionFaultsButNotTerminate() throws {
        let caught = try definition(
            #"{"tryCatch": {"try": {"assign": {"to": "x", "value": "1 / 0"}}, "catch": {"writeLine": {"text": "'recovered'"}}}}"#,
            variables: ["x": 0])
        #expect(try start(caught).1.lines == ["recovered"])
        let terminated = try definition(
            #"{"tryCatch": {"try": {"terminate": {"reason": "'stop ' + 1"}}, "catch": {"writeLine": {"text": "'no'"}}}}"#
        )
        let (_, result) = try start(terminated)
        #expect(result.status == .terminated)
        #expect(result.terminationReason == "stop 1")
        #expect(result.lines.isEmpty)
    }

    @Test func throwInsideCatchPropagates() throws {
        let wf = try definition(
            #"{"tryCatch": {"try": {"throw": {"message": "'first'"}}, "catch": {"throw": {"message": "'second'"}}}}"#)
        let (_, result) = try start(wf)
        #expect(result.status == .faulted)
        #expect(result.fault?.message == "second")
    }

    @Test func catchBlockCanWait() throws {
        let wf = try definition(
            #"{"tryCatch": {"try": {"throw": {"message": "'x'"}}, "catch": {"receive": {"operation": "fix"}}}}"#)
        var (instance, result) = try start(wf)
        #expect(result.status == .idle)
        #expect(try InstanceState.decode(instance.state.encoded()) == instance.state)
        result = try instance.resume(operation: "fix", message: nil, now: t0)
        #expect(result.status == .completed)
    }

    /// A noPersist scope cannot wait for a message or a timer: the instance would stay in
    /// memory, unsaved, and no host could stop in time (it waits only for async calls, see
    /// `asyncInvokeIsANoPersistZoneAndItsFaultIsCaught`).
    @Test func noPersistScopeCannotWaitForMessagesOrTimers() throws {
        for body in [
            #"{"noPersist": {"body": {"receive": {"operation": "inside"}}}}"#,
            #"{"noPersist": {"body": {"sequence": [{"delay": {"duration": "PT60S"}}]}}}"#,
            #"{"noPersist": {"body": {"pick": [{"trigger": {"receive": {"operation": "a"}}}]}}}"#,
        ] {
            #expect {
                try definition(body)
            } throws: { error in
                "\(error)".contains("inside a noPersist scope")
            }
        }
    }

    @Test func cancelAndTerminateFromOutside() throws {
        let wf = try definition(#"{"receive": {"operation": "x"}}"#)
        var (instance, _) = try start(wf)
        #expect(instance.cancel().status == .canceled)
        #expect(instance.state.bookmarks.isEmpty)
        #expect(throws: WorkflowError.self) { try instance.resume(operation: "x", message: nil, now: t0) }
        var (other, _) = try start(wf)
        let result = other.terminate(reason: "operator")
        #expect(result.status == .terminated && result.terminationReason == "operator")
    }

    @Test func inputSetsDeclaredVariablesOnly() throws {
        let wf = try definition(#"{"writeLine": {"text": "name"}}"#, variables: ["name": "nobody"])
        #expect(try start(wf, input: ["name": "Ada"]).1.lines == ["Ada"])
        do {
            _ = try WorkflowInstance(definition: wf, instanceID: "x", input: ["nmae": "Ada"])
            Issue.record("undeclared input accepted")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("'nmae'"))
        }
    }

    @Test func runtimeExpressionFaultNamesActivityAndExpression() throws {
        let wf = try definition(#"{"sequence": [{"writeLine": {"text": "'n=' + (n - 'a')"}}]}"#, variables: ["n": 1])
        let (_, result) = try start(wf)
        #expect(result.status == .faulted)
        #expect(result.fault?.activityPath == "body.sequence[0].writeLine")
        #expect(result.fault?.message.contains("'n=' + (n - 'a')") == true)
    }
}
