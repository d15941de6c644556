import Condrestart from './condrestart.js';

/** The original accepts both names for the same command. */
export default class TryRestart extends Condrestart {}
