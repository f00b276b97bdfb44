#!/usr/bin/env node
// kubectl-reflex: the reflex command under the name kubectl looks for, so `kubectl reflex validate …` works.
import './reflex.js';
