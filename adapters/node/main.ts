#!/usr/bin/env node
import * as Effect from "effect/Effect"
import * as Cli from "../agent/Cli.ts"
import * as Node from "./mod.ts"

Cli.run(process.argv).pipe(Effect.provide(Node.layer), Node.runMain({ disableErrorReporting: true }))
