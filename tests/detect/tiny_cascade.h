/* A hand-written two-stage Haar cascade (current OpenCV layout) whose
 * decisions can be worked out by hand, shared by the detector tests.
 *
 * Window 6x6. Stage 0: f0 = S(top half) - S(bottom half) (rectangles
 * "0 0 6 6 -1" and "0 0 6 3 2"), leaf -1 when f0 < 0 else +1, threshold 0:
 * passes when the top half is at least as bright as the bottom half.
 * Stage 1: f1 = S(left half) - S(right half), same leaves, threshold 0.5:
 * passes when the left half is at least as bright. A window also needs
 * enough contrast in its inner 4x4: 16 * sumsq - sum^2 > 100 * 16^2. */
#ifndef TINY_CASCADE_H
#define TINY_CASCADE_H

static const char tiny_cascade_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\"><stageType>BOOST</stageType>\n"
    "  <featureType>HAAR</featureType>\n"
    "  <height>6</height>\n"
    "  <width>6</width>\n"
    "  <stageParams><maxWeakCount>1</maxWeakCount></stageParams>\n"
    "  <featureParams><maxCatCount>0</maxCatCount></featureParams>\n"
    "  <stageNum>2</stageNum>\n"
    "  <stages>\n"
    "    <_>\n"
    "      <maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.</stageThreshold>\n"
    "      <weakClassifiers>\n"
    "        <_><internalNodes>0 -1 0 0.</internalNodes>\n"
    "          <leafValues>-1. 1.</leafValues></_></weakClassifiers></_>\n"
    "    <_>\n"
    "      <maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.5</stageThreshold>\n"
    "      <weakClassifiers>\n"
    "        <_><internalNodes>0 -1 1 0.</internalNodes>\n"
    "          <leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>\n"
    "  <features>\n"
    "    <_><rects><_>0 0 6 6 -1.</_><_>0 0 6 3 2.</_></rects></_>\n"
    "    <_><rects><_>0 0 6 6 -1.</_><_>0 0 3 6 2.</_></rects></_></features>\n"
    "</cascade>\n"
    "</opencv_storage>\n";

#endif
