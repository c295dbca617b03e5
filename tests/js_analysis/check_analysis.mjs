// Loads a v1 analysis file the way the Timing71 web client does
// (@timing71/common's migrateAnalysisState, then createAnalyser and
// mobx-state-tree's applySnapshot) and prints what it understood as JSON.
// Any rejection of the file makes this exit non-zero with the error.
//
//   node check_analysis.mjs analysis.json
import { readFileSync } from 'node:fs';

import { applySnapshot } from 'mobx-state-tree';
import { createAnalyser, migrateAnalysisState } from '@timing71/common/analysis';

const path = process.argv[2];
if (!path) {
  console.error('usage: node check_analysis.mjs <v1 analysis file>');
  process.exit(2);
}

const v1 = JSON.parse(readFileSync(path, 'utf8'));
const migrated = migrateAnalysisState(v1);
const analyser = createAnalyser();
applySnapshot(analyser, migrated);

const cars = analyser.cars.toArray;
let stints = 0;
let laps = 0;
let inProgress = 0;
const perCar = {};
for (const car of cars) {
  let carLaps = 0;
  for (const stint of car.stints) {
    stints += 1;
    carLaps += stint.laps.length;
    if (stint.inProgress) {
      inProgress += 1;
    }
    // Dereference the driver: a bad driver index would throw here.
    if (stint.driver !== undefined && typeof stint.driver.name !== 'string') {
      throw new Error(`car ${car.raceNum}: stint driver does not resolve`);
    }
  }
  laps += carLaps;
  perCar[car.raceNum] = { stints: car.stints.length, laps: carLaps, drivers: car.drivers.length };
}

console.log(JSON.stringify({
  cars: analyser.cars.count,
  stints,
  laps,
  inProgress,
  perCar,
  messages: analyser.messages.messages.length,
  flagStats: analyser.session.flagStats.length,
  leaderLap: analyser.session.leaderLap,
  version: analyser.version
}));
